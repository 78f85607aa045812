import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../src/log.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('logger', () => {
  it('writes JSON lines with bound context from child loggers', () => {
    const out = capture();
    const log = createLogger({ level: 'info', format: 'json', destination: out.stream });
    log
      .child({ component: 'signalling', roomId: 'abc' })
      .child({ peerId: 'p1' })
      .info({ event: 'join' }, 'peer joined');
    const [line] = out.lines();
    expect(line).toMatchObject({
      level: 30,
      component: 'signalling',
      roomId: 'abc',
      peerId: 'p1',
      event: 'join',
      msg: 'peer joined',
    });
    expect(typeof line?.time).toBe('string');
  });

  it('never writes tokens, passwords, secrets or authorization headers', () => {
    const out = capture();
    const log = createLogger({ level: 'debug', format: 'json', destination: out.stream });
    log.info(
      {
        token: 't-1',
        adminToken: 't-2',
        password: 'p',
        secret: 's',
        req: { headers: { authorization: 'Bearer t-3' } },
      },
      'x',
    );
    log.info({ user: { password: 'p2', resumeToken: 't-4' }, moderatorToken: 't-5' }, 'y');
    const text = JSON.stringify(out.lines());
    for (const s of ['t-1', 't-2', 't-3', 't-4', 't-5', '"p"', 'p2', '"s"'])
      expect(text).not.toContain(s);
    expect(text).toContain('[redacted]');
  });

  it('respects the level', () => {
    const out = capture();
    const log = createLogger({ level: 'warn', format: 'json', destination: out.stream });
    log.info('hidden');
    log.warn('shown');
    expect(out.lines().map((l) => l.msg)).toEqual(['shown']);
  });
});
