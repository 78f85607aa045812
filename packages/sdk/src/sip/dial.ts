/**
 * The pure parts of the SDK's SIP phone: what a person types into a dial pad becomes a SIP URI
 * (or a clear refusal), DTMF strings are checked before they reach `insertDTMF`, and a final
 * SIP status becomes a reason a person can read. No I/O, no SIP.js: unit-tested with hostile input
 * (`packages/sdk/test/sip-dial.test.ts`).
 */

/** Longest input the dial pad accepts (a SIP URI of a real phone is far shorter). */
export const MAX_TARGET_LENGTH = 256;
/** E.164 allows 15 digits; PBX prefixes and extensions make a little more reasonable. */
export const MAX_NUMBER_DIGITS = 32;

export type DialTarget =
  | { readonly ok: true; readonly uri: string; readonly display: string }
  | { readonly ok: false; readonly error: string };

/** RFC 3261 §25.1 `hostname` (labels of alphanumerics and dashes), IPv4, or a bracketed IPv6. */
const HOST =
  /^(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])$/;
/**
 * RFC 3261 §25.1 `user = 1*( unreserved / escaped / user-unreserved )`, narrowed to the
 * unreserved marks and `+`: `;`, `?`, `&`, `=`, `,`, `/` and `$` are legal there but would let a
 * typed address carry URI parameters or headers into the request, which a dial pad never needs.
 */
const USER = /^(?:[A-Za-z0-9\-_.!~*'()+]|%[0-9A-Fa-f]{2})+$/;
/** A telephone number as people type it: digits, `*`, `#`, a leading `+`, spaces, dots, dashes, brackets. */
const NUMBER = /^\+?[0-9*#()\-.\s]*$/;

/** `true` when `host` is a hostname, IPv4 or `[IPv6]` (optionally `:port`, 1–65535). */
export function validHost(hostport: string): boolean {
  const m = /^(.*?)(?::(\d{1,5}))?$/.exec(hostport);
  if (!m) return false;
  const host = m[1] ?? '';
  if (m[2] !== undefined) {
    const port = Number(m[2]);
    if (port < 1 || port > 65535) return false;
  }
  return host.length > 0 && host.length <= 253 && HOST.test(host);
}

/**
 * A dial-pad entry → the Request-URI of the call. A number (`+1 (555) 010-2000`, `*97#`) is sent
 * as the user part at `domain` (the SBC's routes decide where it goes); `alice`, `alice@host` and
 * `sip:alice@host[:port]` are SIP addresses. Anything else — URI parameters or headers, spaces or
 * control characters in an address, other schemes — is refused with a sentence for the person.
 */
export function parseDialTarget(input: string, domain: string): DialTarget {
  if (typeof input !== 'string') return { ok: false, error: 'Enter a number or a SIP address.' };
  if (!validHost(domain)) return { ok: false, error: 'The SIP domain is not valid.' };
  if (input.length > MAX_TARGET_LENGTH)
    return { ok: false, error: `That is too long (at most ${MAX_TARGET_LENGTH} characters).` };
  const text = input.trim();
  if (text === '') return { ok: false, error: 'Enter a number or a SIP address.' };
  if (NUMBER.test(text)) {
    const plus = text.startsWith('+');
    const digits = text.replace(/[()\-.\s+]/g, '');
    if (!/[0-9]/.test(digits)) return { ok: false, error: 'A number needs at least one digit.' };
    if (digits.length > MAX_NUMBER_DIGITS)
      return { ok: false, error: `A number has at most ${MAX_NUMBER_DIGITS} digits.` };
    const user = (plus ? '+' : '') + digits;
    // `#` is not allowed unescaped in the user part (RFC 3261 §25.1): %23.
    return { ok: true, uri: `sip:${user.replace(/#/g, '%23')}@${domain}`, display: user };
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f<>"]/.test(text))
    return { ok: false, error: 'A SIP address has no spaces, quotes or brackets.' };
  let rest = text;
  const scheme = /^(sips?):/i.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  else if (/^[a-z][a-z0-9+.-]*:(?!\d)/i.test(rest) && !rest.includes('@'))
    return { ok: false, error: 'Only sip: and sips: addresses can be dialled.' };
  if (/[;?]/.test(rest))
    return { ok: false, error: 'Parameters and headers in the address are not allowed.' };
  const at = rest.lastIndexOf('@');
  const user = at < 0 ? rest : rest.slice(0, at);
  const host = at < 0 ? domain : rest.slice(at + 1);
  if (!USER.test(user)) return { ok: false, error: 'The user part of that address is not valid.' };
  if (!validHost(host)) return { ok: false, error: 'The host of that address is not valid.' };
  const s = scheme?.[1]?.toLowerCase() === 'sips' ? 'sips' : 'sip';
  return { ok: true, uri: `${s}:${user}@${host}`, display: at < 0 ? user : `${user}@${host}` };
}

/** DTMF digits `insertDTMF` takes (W3C WebRTC §7.2: 0-9, A-D, *, #, and `,` for a pause). */
export const MAX_DTMF = 64;
export function validDtmf(tones: string): boolean {
  return typeof tones === 'string' && tones.length <= MAX_DTMF && /^[0-9A-Da-d*#,]+$/.test(tones);
}

/** What a reason phrase from the network may look like when shown: printable, short. */
export function cleanPhrase(phrase: unknown): string {
  if (typeof phrase !== 'string') return '';
  // eslint-disable-next-line no-control-regex
  const clean = phrase.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  return clean.length > 80 ? `${clean.slice(0, 79)}…` : clean;
}

/**
 * A failed call's final status → a sentence (RFC 3261 §21; the SBC's own refusals are in
 * docs/sbc.md: 403 denied destination or failed sign-in, 486 the account's channel limit,
 * 503 + Retry-After the call rate).
 */
export function failureReason(status: number, phrase?: unknown): string {
  const said = cleanPhrase(phrase);
  const withPhrase = (text: string): string =>
    said ? `${text} (${Number.isInteger(status) ? status : '?'} ${said})` : text;
  if (!Number.isInteger(status) || status < 300 || status > 699)
    return withPhrase('The call failed');
  switch (status) {
    case 401:
    case 407:
      return withPhrase('Sign-in required: anonymous callers cannot dial out');
    case 403:
      return withPhrase('Not allowed: this account may not call that destination');
    case 404:
    case 604:
      return withPhrase('Number not found');
    case 408:
      return withPhrase('No answer');
    case 480:
      return withPhrase('Unavailable');
    case 484:
      return withPhrase('Incomplete number');
    case 486:
    case 600:
      return withPhrase('Busy');
    case 487:
      return withPhrase('Cancelled');
    case 488:
    case 606:
      return withPhrase('The phone cannot take this call’s media');
    case 503:
      return withPhrase('The service is busy: try again shortly');
    case 603:
      return withPhrase('Declined');
    default:
      return withPhrase(status >= 500 ? 'The phone network failed' : 'The call failed');
  }
}
