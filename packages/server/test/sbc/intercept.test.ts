/**
 * Lawful intercept's server parts without SIP: the TFXL mirror datagram (written and read
 * back, hostile input), the target values' canonical forms, the store in the data dir (targets
 * survive a restart, a damaged file stops the start, the audit log only grows), and the PCAP
 * merge of the per-call PCAP (signalling + recorded RTP by time).
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergePcaps, pcapFileHeader, pcapRecord, pcapRecords } from '@tfx/protocol';
import { liDatagram, parseLiDatagram } from '../../src/sbc/intercept-delivery.js';
import { InterceptStore } from '../../src/sbc/intercept-store.js';
import { canonicalTarget } from '../../src/sbc/intercept.js';

describe('the TFXL mirror datagram', () => {
  it('carries kind, leg, direction, the time in µs and the correlation id before the payload', () => {
    const payload = Buffer.from('INVITE sip:1@x SIP/2.0\r\n\r\n');
    const d = liDatagram('sip', 'b', 'o', 1_700_000_000_123.456, 'li-0123456789abcdef', payload);
    expect(d.subarray(0, 4).toString()).toBe('TFXL');
    expect(d[4]).toBe(1);
    expect(d.length).toBe(17 + 19 + payload.length);
    expect(parseLiDatagram(d)).toEqual({
      kind: 1,
      leg: 'b',
      direction: 'o',
      atUs: 1_700_000_000_123_456n,
      correlationId: 'li-0123456789abcdef',
      payload,
    });
  });

  it('reads nothing from foreign or short datagrams', () => {
    expect(parseLiDatagram(Buffer.alloc(0))).toBeUndefined();
    expect(parseLiDatagram(Buffer.from('TFXL'))).toBeUndefined();
    const d = liDatagram('rtp', 'a', 'o', 1, 'li-x', Buffer.alloc(4));
    d[16] = 200; // an id longer than the datagram
    expect(parseLiDatagram(d)).toBeUndefined();
    expect(parseLiDatagram(Buffer.from('XXXX'.padEnd(40, '\0')))).toBeUndefined();
  });

  it('cuts a payload to what one UDP datagram carries', () => {
    const d = liDatagram('sip', 'a', 'i', 1, 'li-x', Buffer.alloc(100_000));
    expect(d.length).toBeLessThanOrEqual(65_507);
  });
});

describe('intercept target values', () => {
  it.each([
    ['source', '10.1.2.3/8', '10.0.0.0/8'],
    ['source', '192.0.2.7', '192.0.2.7/32'],
    ['source', '2001:DB8::1/32', '2001:db8::/32'],
    ['number', '+44 (20) 7946-0000', '+442079460000'],
    ['user', 'alice.smith', 'alice.smith'],
  ] as const)('%s %s is kept as %s', (kind, value, canonical) => {
    expect(canonicalTarget(kind, value)).toEqual({ value: canonical });
  });

  it.each([
    ['source', '10.0.0.0/33'],
    ['source', '10.0.0.0/8/8'],
    ['source', 'example.org'],
    ['number', '12ab'],
    ['number', '1'.repeat(33)],
    ['user', 'a b'],
    ['user', 'a@b'],
    ['user', 'x'.repeat(65)],
  ] as const)('%s %s is refused with a reason', (kind, value) => {
    expect(canonicalTarget(kind, value)).toHaveProperty('problem');
  });
});

describe('the intercept store', () => {
  it('keeps targets across a restart, in files only its user reads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfx-li-'));
    const a = new InterceptStore(dir);
    const t1 = a.add({ kind: 'user', value: 'alice', createdBy: 'test' }, 0);
    a.add({ kind: 'source', value: '10.0.0.0/8', createdBy: 'test' }, 0);
    expect(a.remove(t1.id)).toEqual(t1);
    expect(a.remove(t1.id)).toBeUndefined();
    a.close();
    const b = new InterceptStore(dir);
    expect(b.view()).toEqual([
      { id: expect.stringMatching(/^li-t-/), kind: 'source', value: '10.0.0.0/8' },
    ]);
    expect(statSync(join(dir, 'li')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'li', 'targets.json')).mode & 0o777).toBe(0o600);
    b.close();
  });

  it('refuses to start on a damaged targets file (rather than intercept nothing)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfx-li-'));
    new InterceptStore(dir).close();
    writeFileSync(join(dir, 'li', 'targets.json'), '{"targets":[{"kind":"user"}]}');
    expect(() => new InterceptStore(dir)).toThrow();
  });

  it('appends audit entries and reads back the last ones, skipping damaged lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfx-li-'));
    const s = new InterceptStore(dir);
    const entry = (i: number) => ({
      at: new Date(i).toISOString(),
      who: 'anonymous',
      remote: '127.0.0.1',
      action: 'create',
      outcome: 'refused' as const,
      status: 401,
      detail: String(i),
    });
    for (let i = 0; i < 5; i++) s.audit(entry(i));
    writeFileSync(join(dir, 'li', 'audit.jsonl'), '{damaged\n', { flag: 'a' });
    s.audit(entry(5));
    expect(s.readAudit(3).map((e) => e.detail)).toEqual(['3', '4', '5']);
    expect(readFileSync(join(dir, 'li', 'audit.jsonl'), 'utf8').split('\n').length).toBe(8);
    s.close();
    s.close();
  });
});

describe('PCAP merge (per-call PCAP with recorded RTP)', () => {
  const file = (...recs: Uint8Array[]): Uint8Array => Buffer.concat([pcapFileHeader(), ...recs]);
  const rec = (ms: number, port: number): Uint8Array =>
    pcapRecord(
      { address: '127.0.0.1', port },
      { address: '127.0.0.2', port: 1 },
      new Uint8Array(4),
      ms,
    );

  it('interleaves the records of both files by time', () => {
    const merged = mergePcaps([file(rec(10, 1), rec(30, 3)), file(rec(20, 2), rec(40, 4))]);
    const ports = pcapRecords(merged).map((r) => Buffer.from(r.bytes).readUInt16BE(16 + 20));
    expect(ports).toEqual([1, 2, 3, 4]);
  });

  it('keeps what parses of a truncated or foreign file', () => {
    const whole = file(rec(10, 1), rec(20, 2));
    expect(pcapRecords(whole.subarray(0, whole.length - 3))).toHaveLength(1);
    expect(pcapRecords(new Uint8Array(100))).toEqual([]);
    expect(pcapRecords(new Uint8Array(3))).toEqual([]);
    expect(pcapRecords(mergePcaps([whole, new Uint8Array(10)]))).toHaveLength(2);
  });
});
