import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeFlowToken, encodeFlowToken, type Flow } from '../../src/transport/index.js';

const secret = 'a test secret of reasonable length';
const flow: Flow = {
  transport: 'wss',
  connectionId: 'wss-1a-3f2c',
  local: { address: '::1', port: 443 },
  remote: { address: '2001:db8::7', port: 50123 },
};

describe('flow tokens', () => {
  it('RFC 5626 §5.2: a flow token decodes back to the flow it names', () => {
    const token = encodeFlowToken(flow, secret);
    expect(decodeFlowToken(token, secret)).toEqual(flow);
  });

  it('RFC 3261 §19.1.1: a flow token uses only characters that need no escaping in a URI user part or parameter', () => {
    expect(encodeFlowToken(flow, secret)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('RFC 5626 §5.2: a token made with another secret is refused', () => {
    expect(decodeFlowToken(encodeFlowToken(flow, 'another secret'), secret)).toBeUndefined();
  });

  it('RFC 5626 §5.2: a token whose payload was altered (to point at another connection) is refused', () => {
    const token = encodeFlowToken(flow, secret);
    const bytes = Buffer.from(token, 'base64url');
    const text = bytes.toString('latin1').replace('wss-1a-3f2c', 'wss-1a-3f2d');
    const forged = Buffer.from(text, 'latin1').toString('base64url');
    expect(forged).not.toBe(token);
    expect(decodeFlowToken(forged, secret)).toBeUndefined();
  });

  it('RFC 5626 §5.2: no single-character change of a token is accepted (fast-check)', () => {
    const token = encodeFlowToken(flow, secret);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: token.length - 1 }),
        fc.constantFrom(...alphabet),
        (i, c) => {
          fc.pre(token[i] !== c);
          const mutated = token.slice(0, i) + c + token.slice(i + 1);
          const decoded = decodeFlowToken(mutated, secret);
          // The last base64url character may carry padding bits only: then the bytes are equal.
          if (decoded)
            expect(Buffer.from(mutated, 'base64url')).toEqual(Buffer.from(token, 'base64url'));
        },
      ),
      { seed: 5626, numRuns: 400 },
    );
  });

  it('garbage, empty and oversized tokens are refused without throwing', () => {
    for (const t of [
      '',
      'x',
      '!!!!',
      'a'.repeat(600),
      'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    ]) {
      expect(decodeFlowToken(t, secret)).toBeUndefined();
    }
  });
});
