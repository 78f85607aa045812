/**
 * The SBC's per-call signalling record (signals.ts) and the shared PCAP writer (@tfx/protocol
 * pcap.ts): bounds (messages per Call-ID, Call-IDs, ended calls) and files tshark reads as SIP,
 * IPv4 and IPv6, in and out, with the real endpoints of each message.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/** tshark starts slowly on a busy machine. */
const SLOW = 60_000;
import { parseMessage, type SipMessage } from '@tfx/sip';
import { pcapFileHeader, pcapRecord } from '@tfx/protocol';
import { SignalRecord } from '../src/signals.js';

const run = promisify(execFile);
const enc = new TextEncoder();

function invite(callId: string, cseq = 1): SipMessage {
  const text =
    `INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK${cseq}\r\n` +
    `From: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: ${callId}\r\n` +
    `CSeq: ${cseq} INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
  const r = parseMessage(enc.encode(text));
  if (!('message' in r) || !r.message) throw new Error('bad test message');
  return r.message;
}

async function tshark(bytes: Uint8Array): Promise<string[][]> {
  const dir = await mkdtemp(join(tmpdir(), 'sbc-signals-'));
  try {
    const file = join(dir, 'x.pcap');
    await writeFile(file, bytes);
    const { stdout } = await run('tshark', [
      '-r',
      file,
      '-Y',
      'sip',
      '-T',
      'fields',
      '-E',
      'separator=|',
      '-e',
      'ip.src',
      '-e',
      'ipv6.src',
      '-e',
      'udp.srcport',
      '-e',
      'ipv6.dst',
      '-e',
      'udp.dstport',
      '-e',
      'sip.Method',
      '-e',
      'sip.CSeq.seq',
    ]);
    return stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('|'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const L = { address: '127.0.0.10', port: 5070 };
const R = { address: '127.0.0.12', port: 40000 };

describe('SignalRecord', () => {
  it(
    'keeps a Call-ID’s messages with their real endpoints, in and out, oldest first',
    async () => {
      const s = new SignalRecord();
      s.record('in', L, R, invite('c1', 1), 1_000);
      s.record('out', L, R, invite('c1', 2), 1_500);
      s.record('in', L, R, invite('other', 3), 1_600);
      const rows = await tshark(s.pcap(['c1']));
      expect(rows.map((r) => [r[0], r[2], r[4], r[5], r[6]])).toEqual([
        ['127.0.0.12', '40000', '5070', 'INVITE', '1'],
        ['127.0.0.10', '5070', '40000', 'INVITE', '2'],
      ]);
    },
    SLOW,
  );

  it('keeps the last messages of a Call-ID, and the most recently written Call-IDs', () => {
    const s = new SignalRecord({ perCallId: 3, callIds: 2, ended: 1, messages: 100 });
    for (let i = 1; i <= 5; i++) s.record('in', L, R, invite('c1', i), i);
    expect(s.count(['c1'])).toBe(3);
    expect(s.dropped.messages).toBe(2);
    s.record('in', L, R, invite('c2'), 10);
    s.record('in', L, R, invite('c1', 6), 11); // c1 written last: c2 is the oldest now
    s.record('in', L, R, invite('c3'), 12);
    expect([s.count(['c1']), s.count(['c2']), s.count(['c3'])]).toEqual([3, 0, 1]);
    expect(s.dropped.callIds).toBe(1);
    s.ended('sbc-1', ['c1']);
    s.ended('sbc-2', ['c3']);
    expect(s.endedLegs('sbc-1')).toBeUndefined();
    expect(s.endedLegs('sbc-2')).toEqual(['c3']);
  });

  it('keeps at most `messages` in all: the least recently active Call-IDs go first', () => {
    const s = new SignalRecord({ perCallId: 10, callIds: 100, ended: 1, messages: 5 });
    for (let i = 1; i <= 3; i++) s.record('in', L, R, invite('old', i), i);
    for (let i = 1; i <= 3; i++) s.record('in', L, R, invite('new', i), 10 + i);
    expect([s.count(['old']), s.count(['new']), s.size]).toEqual([0, 3, 3]);
    for (let i = 4; i <= 9; i++) s.record('in', L, R, invite('new', i), 10 + i);
    expect([s.count(['new']), s.size]).toEqual([9, 9]); // one Call-ID is never evicted by itself
  });

  it('gives an empty (header-only) PCAP for Call-IDs it has nothing of', () => {
    const s = new SignalRecord();
    expect(s.pcap(['none'])).toEqual(pcapFileHeader());
  });
});

describe('pcapRecord', () => {
  it(
    'writes IPv6 endpoints (compressed forms) that tshark decodes',
    async () => {
      const sip = enc.encode(
        'OPTIONS sip:x@[::1] SIP/2.0\r\nVia: SIP/2.0/UDP [::1]:5060;branch=z9hG4bKa\r\n' +
          'From: <sip:a@[::1]>;tag=1\r\nTo: <sip:x@[::1]>\r\nCall-ID: v6\r\nCSeq: 7 OPTIONS\r\n' +
          'Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n',
      );
      const rec = pcapRecord(
        { address: '::1', port: 5060 },
        { address: 'fd00::2', port: 5062 },
        sip,
        0,
      );
      const rows = await tshark(new Uint8Array([...pcapFileHeader(), ...rec]));
      expect(rows.map((r) => [r[1], r[2], r[3], r[4], r[5], r[6]])).toEqual([
        ['::1', '5060', 'fd00::2', '5062', 'OPTIONS', '7'],
      ]);
    },
    SLOW,
  );

  it('cuts a payload beyond one datagram and never throws on odd addresses', () => {
    const big = new Uint8Array(70_000);
    const r = pcapRecord(
      { address: '10.0.0.1', port: 1 },
      { address: '10.0.0.2', port: 2 },
      big,
      5,
    );
    expect(r.length).toBeLessThanOrEqual(16 + 65535);
    for (const address of [
      '',
      'not-an-ip',
      '::ffff:1.2.3.4',
      '[::1]',
      'fe80::1%eth0',
      '1:2:3:4:5:6:7:8:9',
    ])
      expect(() =>
        pcapRecord({ address, port: 70_000 }, { address: '::1', port: -1 }, big, -1),
      ).not.toThrow();
  });
});
