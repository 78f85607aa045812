// The serializer splices received bytes (runs of untouched lines copied as one range) instead
// of copying field by field: its output must be byte for byte what a field-by-field
// serialization gives (RFC 3261 §7: every line CRLF-terminated, Content-Length = body), for
// every torture message (RFC 4475, RFC 5118) and after the edits a proxy makes (§16.6).
import { readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { fieldValue, type HeaderField } from '../../src/syntax/headers.js';
import {
  parseMessage,
  parseUri,
  SipHeaders,
  serializeFields,
  serializeMessage,
  type SipMessage,
  type SipRequest,
} from '../../src/syntax/index.js';
import { startLine } from '../../src/syntax/serializer.js';
import { crlf, dec, enc, fixture } from './helpers.js';

/** The plain field-by-field serialization the splicing one must equal. */
function reference(msg: SipMessage, keys?: ReadonlySet<string>): string {
  // A parsed message whose start line was not changed keeps its received start line.
  const raw = msg.raw === undefined ? undefined : dec(msg.raw);
  let s = `${raw === undefined ? startLine(msg) : raw.slice(0, raw.indexOf('\n')).replace(/\r$/, '')}\r\n`;
  let lengthWritten = false;
  const line = (f: HeaderField): string =>
    f.buf !== undefined
      ? `${dec(f.buf.subarray(f.rawStart, f.rawEnd))}\r\n`
      : `${f.name}: ${fieldValue(f)}\r\n`;
  for (const f of msg.headers.fields()) {
    if (keys !== undefined) {
      if (keys.has(f.key)) s += line(f);
      continue;
    }
    if (f.key === 'content-length') {
      if (lengthWritten) continue;
      lengthWritten = true;
      const v = fieldValue(f);
      s +=
        f.buf !== undefined && /^[0-9]+$/.test(v) && Number(v) === msg.body.length
          ? line(f)
          : `${f.name}: ${msg.body.length}\r\n`;
      continue;
    }
    s += line(f);
  }
  if (keys !== undefined) return `${s}\r\n`;
  if (!lengthWritten) s += `Content-Length: ${msg.body.length}\r\n`;
  return `${s}\r\n${dec(msg.body)}`;
}

function messages(): Array<[string, SipMessage]> {
  const out: Array<[string, SipMessage]> = [];
  for (const dir of ['rfc4475', 'rfc5118']) {
    for (const name of readdirSync(new URL(`../fixtures/${dir}`, import.meta.url))) {
      if (!name.endsWith('.dat')) continue;
      const r = parseMessage(fixture(dir, name));
      const m = r.ok ? r.message : r.partial;
      if (m !== undefined) out.push([`${dir}/${name}`, m]);
    }
  }
  return out;
}

describe('splicing serializer', () => {
  const all = messages();

  test('there are torture messages to check', () => {
    expect(all.length).toBeGreaterThan(40);
  });

  test.each(all)('%s: a proxy-style edit serializes as the reference does', (_name, m) => {
    // §16.6: a new top Via, a Record-Route, Max-Forwards decremented.
    m.headers.prepend('Via', 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsplice');
    m.headers.prepend('Record-Route', '<sip:192.0.2.1;lr>');
    if (m.headers.has('max-forwards')) m.headers.set('Max-Forwards', '69');
    const bytes = serializeMessage(m);
    expect(dec(bytes)).toBe(reference(m));
    // The retransmission-absorbing copy: a subset of fields.
    const keys = new Set(['via', 'from', 'to', 'call-id', 'cseq']);
    expect(dec(serializeFields(m, keys))).toBe(reference(m, keys));
  });

  test('a bare-LF line is written with CRLF; untouched CRLF runs are copied as they are', () => {
    const text =
      'OPTIONS sip:a@b.example SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:a@b.example>\r\nFrom: <sip:c@d.example>;tag=1\r\nCall-ID: x\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\r\n';
    const r = parseMessage(enc(text));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    r.message.headers.set('Max-Forwards', '69');
    const out = dec(serializeMessage(r.message));
    expect(out).toBe(
      'OPTIONS sip:a@b.example SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b.example>\r\nFrom: <sip:c@d.example>;tag=1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 69\r\nContent-Length: 0\r\n\r\n',
    );
    expect(out).toBe(reference(r.message));
  });

  test('a body and a changed Content-Length follow the headers', () => {
    const r = parseMessage(
      crlf(
        'MESSAGE sip:a@b.example SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\nContent-Length: 99\n\nhello',
      ),
    );
    const m = r.ok ? r.message : r.partial!;
    m.headers.prepend('Via', 'SIP/2.0/UDP p;branch=z9hG4bK3');
    expect(dec(serializeMessage(m))).toBe(reference(m));
  });
});

describe('received bytes are reused only where they still say what the message says', () => {
  const text =
    'INVITE sip:bob@b.example SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK9\nTo: <sip:bob@b.example>\nFrom: <sip:a@c.example>;tag=1\nCall-ID: k\nCSeq: 1 INVITE\nContent-Length: 0\n\n';
  const parsed = (): SipRequest => {
    const m = parseMessage(crlf(text));
    if (!m.ok || m.message.kind !== 'request') throw new Error('parse');
    return m.message;
  };

  test('an untouched message, and a copy sharing its fields, are their received bytes', () => {
    const m = parsed();
    expect(dec(serializeMessage(m))).toBe(text.replace(/\n/g, '\r\n'));
    expect(dec(serializeMessage({ ...m }))).toBe(text.replace(/\n/g, '\r\n'));
  });

  test('a copy with another Request-URI, method or body writes its own start line and length', () => {
    const m = parsed();
    const u = parseUri('sip:carol@d.example');
    if (!u.ok) throw new Error('uri');
    const retargeted = { ...m, uri: u.value };
    expect(dec(serializeMessage(retargeted))).toMatch(/^INVITE sip:carol@d\.example SIP\/2\.0\r\n/);
    const ack = { ...m, method: 'ACK' };
    expect(dec(serializeMessage(ack))).toMatch(/^ACK sip:bob@b\.example SIP\/2\.0\r\n/);
    const withBody = { ...m, body: enc('v=0\r\n') };
    const out = dec(serializeMessage(withBody));
    expect(out).toContain('Content-Length: 5\r\n');
    expect(out.endsWith('\r\n\r\nv=0\r\n')).toBe(true);
  });

  test('a copy with other header fields does not reuse the received message', () => {
    const m = parsed();
    const other = SipHeaders.from([
      ['Via', 'SIP/2.0/UDP x;branch=z9hG4bK7'],
      ['Call-ID', 'other'],
    ]);
    const out = dec(serializeMessage({ ...m, headers: other }));
    expect(out).toBe(
      'INVITE sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK7\r\nCall-ID: other\r\nContent-Length: 0\r\n\r\n',
    );
  });

  test('a response built around a request’s fields gets its own status line', () => {
    const m = parsed();
    const res: SipMessage = {
      kind: 'response',
      status: 200,
      reason: 'OK',
      version: 'SIP/2.0',
      headers: m.headers,
      body: new Uint8Array(0),
    };
    expect(dec(serializeMessage(res))).toMatch(/^SIP\/2\.0 200 OK\r\nVia: SIP\/2\.0\/UDP h/);
  });
});
