// Test helpers: read fixtures, and a structural view of a message for round-trip comparisons
// (the header collection keeps private state, so compare what it exposes).
import { readFileSync } from 'node:fs';
import { parseMessage, type SipMessage, type ParseResult } from '../../src/syntax/index.js';

export function fixture(dir: string, name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`../fixtures/${dir}/${name}`, import.meta.url)));
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** CRLF line ends from a template written with \n. */
export const crlf = (s: string): Uint8Array => enc(s.replace(/\r?\n/g, '\r\n'));

export function mustParse(bytes: Uint8Array | string): SipMessage {
  const r: ParseResult = parseMessage(typeof bytes === 'string' ? crlf(bytes) : bytes);
  if (!r.ok) throw new Error(`parse failed: ${r.error.code} ${r.error.reason}`);
  return r.message;
}

export interface MessageView {
  start: string;
  headers: Array<[string, string]>;
  typed: Record<string, unknown>;
  body: number[];
}

/** Everything a consumer sees, with Content-Length left out (the serializer recomputes it). */
export function view(m: SipMessage): MessageView {
  const h = m.headers;
  const start =
    m.kind === 'request'
      ? `${m.method} ${m.uriText} ${m.version}`
      : `${m.version} ${m.status} ${m.reason}`;
  const typed: Record<string, unknown> = {};
  for (const name of [
    'via',
    'from',
    'to',
    'call-id',
    'cseq',
    'contact',
    'max-forwards',
    'expires',
    'route',
    'record-route',
  ] as const) {
    const r = h.typed(name);
    typed[name] = r.ok ? r.value : r.error.code;
  }
  return {
    start,
    headers: h.entries().filter(([n]) => !/^(content-length|l)$/i.test(n)),
    typed,
    body: Array.from(m.body),
  };
}
