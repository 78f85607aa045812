/**
 * rtpengine's DTMF log (dtmf-log-dest) → `dtmf` events: the parser on the line rtpengine 10.5.3.5
 * sent (see the contract suite for the real daemon), hostile datagrams, a fuzz; the engine's
 * socket counts what it drops (wrong source, garbage, calls it does not hold) and keeps going.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createSocket, type Socket } from 'node:dgram';
import { parseDtmfLog } from '../../src/rtpengine/dtmf-log.js';
import { createRtpengineEngine, type RtpengineEngine } from '../../src/rtpengine/engine.js';
import { sleep, waitFor } from '../contract/probe.js';

const real =
  '{"callid":"dfalse","source_tag":"a","tags":["a","b"],"type":"DTMF","timestamp":1796574832,"source_ip":"127.0.0.1","event":7,"duration":100,"volume":10}';

describe('parseDtmfLog', () => {
  it('reads the line rtpengine sends: call, party, digit, duration, volume', () => {
    expect(parseDtmfLog(Buffer.from(real))).toEqual({
      ok: true,
      event: { callId: 'dfalse', tag: 'a', digit: '7', durationMs: 100, volume: 10 },
    });
    const star = real.replace('"event":7', '"event":10');
    expect(parseDtmfLog(Buffer.from(star))).toMatchObject({ ok: true, event: { digit: '*' } });
  });

  it('refuses what is not a DTMF log line, with a reason', () => {
    const cases: [string, string][] = [
      ['', 'not-json'],
      ['{', 'not-json'],
      ['[1,2]', 'not-json'],
      ['null', 'not-json'],
      [real.replace('"DTMF"', '"other"'), 'not-dtmf'],
      [real.replace('"callid":"dfalse"', '"callid":7'), 'bad-field'],
      [real.replace('"callid":"dfalse"', '"callid":""'), 'bad-field'],
      [real.replace('"source_tag":"a"', '"source_tag":null'), 'bad-field'],
      [real.replace('"event":7', '"event":16'), 'bad-field'],
      [real.replace('"event":7', '"event":-1'), 'bad-field'],
      [real.replace('"event":7', '"event":1.5'), 'bad-field'],
      [real.replace('"event":7', '"event":"7"'), 'bad-field'],
      ['x'.repeat(5000), 'too-large'],
    ];
    for (const [text, reason] of cases)
      expect(parseDtmfLog(Buffer.from(text)), text.slice(0, 60)).toEqual({ ok: false, reason });
    // Odd but harmless fields are clamped, not trusted.
    const odd = real
      .replace('"duration":100', '"duration":-5')
      .replace('"volume":10', '"volume":99');
    expect(parseDtmfLog(Buffer.from(odd))).toMatchObject({
      ok: true,
      event: { durationMs: 0, volume: 0 },
    });
  });

  it('never throws on arbitrary bytes or JSON (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(typeof parseDtmfLog(b).ok).toBe('boolean');
      }),
    );
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(typeof parseDtmfLog(Buffer.from(JSON.stringify(v) ?? '')).ok).toBe('boolean');
      }),
    );
  });
});

describe('RtpengineEngine DTMF log socket', () => {
  let engine: RtpengineEngine | undefined;
  const socks: Socket[] = [];
  afterEach(async () => {
    for (const s of socks.splice(0)) s.close();
    await engine?.close();
  });

  it('counts and drops hostile datagrams, and those from elsewhere than the daemons', async () => {
    const probe = createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
    const port = probe.address().port;
    probe.close();
    engine = await createRtpengineEngine({
      instances: ['udp:127.0.0.1:9'],
      pingIntervalMs: 0,
      statsIntervalMs: 0,
      dtmfListen: `udp:127.0.0.1:${port}`,
    });
    expect(engine.capabilities.detectDtmf).toBe(true);
    const seen: string[] = [];
    engine.on('dtmf', (e) => seen.push(e.digit));
    const send = async (from: string, text: string): Promise<void> => {
      const s = createSocket('udp4');
      socks.push(s);
      await new Promise<void>((r) => s.bind(0, from, () => r()));
      s.send(Buffer.from(text), port, '127.0.0.1');
    };
    await send('127.0.0.1', 'garbage');
    await send('127.0.0.1', real.replace('"event":7', '"event":99'));
    await send('127.0.0.1', real); // a call this engine does not hold
    await send('127.0.0.2', real); // not a daemon's host
    await waitFor(
      () => Object.values(engine!.dtmfDropped).reduce((a, b) => a + b, 0) >= 4,
      'four drops',
    );
    await sleep(50);
    expect(engine.dtmfDropped).toEqual({
      'not-json': 1,
      'bad-field': 1,
      'unknown-call': 1,
      'wrong-source': 1,
    });
    expect(seen).toEqual([]);
  });

  it('a DTMF log address that cannot be bound is a listen-failed error at start', async () => {
    await expect(
      createRtpengineEngine({
        instances: ['udp:127.0.0.1:9'],
        pingIntervalMs: 0,
        dtmfListen: 'udp:192.0.2.1:4000',
      }),
    ).rejects.toMatchObject({ code: 'listen-failed' });
  });
});
