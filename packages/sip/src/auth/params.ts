/**
 * Auth-param lists: the shared grammar of `WWW-Authenticate`, `Proxy-Authenticate`,
 * `Authorization` and `Proxy-Authorization` (RFC 3261 §25.1, §20.7, §20.27, §20.28, §20.44).
 *
 *   challenge     = ("Digest" LWS digest-cln *(COMMA digest-cln)) / other-challenge
 *   auth-param    = auth-param-name EQUAL ( token / quoted-string )
 *   quoted-string = SWS DQUOTE *(qdtext / quoted-pair ) DQUOTE
 *   quoted-pair   = "\" (%x00-09 / %x0B-0C / %x0E-7F)
 *
 * Pure: a string in, a typed result out. Hostile input never throws; the scan is linear and
 * bounded by {@link AUTH_LIMITS}.
 */

/** Limits that bound the work done on one header value. */
export const AUTH_LIMITS = {
  /** Longest header value accepted, in characters. */
  maxLength: 8192,
  /** Most auth-params accepted in one header value. */
  maxParams: 32,
} as const;

export type AuthErrorReason =
  | 'too-long'
  | 'empty'
  | 'bad-scheme'
  | 'syntax'
  | 'too-many-params'
  | 'duplicate-param'
  | 'missing-param'
  | 'bad-value'
  | 'unsupported-algorithm'
  | 'unsupported-qop';

/** A typed failure of an auth header; `code` is the catalogue code the edge answers with. */
export interface AuthParseError {
  readonly code: 'sip-parse-error';
  readonly reason: AuthErrorReason;
  readonly message: string;
  /** Character offset in the input, where it helps. */
  readonly offset?: number;
}

export type AuthResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: AuthParseError };

export function authError(
  reason: AuthErrorReason,
  message: string,
  offset?: number,
): { ok: false; error: AuthParseError } {
  const error: AuthParseError =
    offset === undefined
      ? { code: 'sip-parse-error', reason, message }
      : { code: 'sip-parse-error', reason, message, offset };
  return { ok: false, error };
}

/** A scheme and its params; names are lower-cased, values unquoted and unescaped. */
export interface AuthParams {
  readonly scheme: string;
  readonly params: ReadonlyMap<string, AuthParamValue>;
}

export interface AuthParamValue {
  readonly value: string;
  /** Whether the value arrived as a quoted-string (some params require one form). */
  readonly quoted: boolean;
}

// RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
const TOKEN_CHAR = /^[A-Za-z0-9\-.!%*_+`'~]$/;

export function isTokenChar(ch: string): boolean {
  return TOKEN_CHAR.test(ch);
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (const ch of s) if (!isTokenChar(ch)) return false;
  return true;
}

function isWs(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;
}

/**
 * Parses `scheme auth-param *(COMMA auth-param)`. Folded lines (CRLF + WSP) are treated as
 * whitespace; a bare CR or LF not followed by whitespace is a syntax error.
 */
export function parseAuthParams(input: string): AuthResult<AuthParams> {
  if (typeof input !== 'string') return authError('empty', 'header value is not a string');
  if (input.length > AUTH_LIMITS.maxLength) {
    return authError('too-long', `header value longer than ${AUTH_LIMITS.maxLength} characters`);
  }
  const s = input;
  let i = 0;
  const skipWs = (): boolean => {
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 0x0d || c === 0x0a) {
        // LWS = [*WSP CRLF] 1*WSP: a line break must be followed by whitespace.
        let j = i;
        if (s.charCodeAt(j) === 0x0d) j++;
        if (s.charCodeAt(j) === 0x0a) j++;
        const next = s.charCodeAt(j);
        if (next !== 0x20 && next !== 0x09) return false;
        i = j;
      } else if (c === 0x20 || c === 0x09) {
        i++;
      } else {
        break;
      }
    }
    return true;
  };
  const readToken = (): string => {
    const start = i;
    while (i < s.length && isTokenChar(s[i] as string)) i++;
    return s.slice(start, i);
  };

  if (!skipWs()) return authError('syntax', 'bare line break', i);
  const scheme = readToken();
  if (scheme.length === 0) return authError('bad-scheme', 'missing auth scheme', i);
  if (i < s.length && !isWs(s.charCodeAt(i))) {
    return authError('syntax', 'auth scheme must be followed by whitespace', i);
  }

  const params = new Map<string, AuthParamValue>();
  for (;;) {
    if (!skipWs()) return authError('syntax', 'bare line break', i);
    const nameAt = i;
    const name = readToken();
    if (name.length === 0) {
      return authError(i >= s.length ? 'empty' : 'syntax', 'expected an auth-param name', i);
    }
    if (!skipWs()) return authError('syntax', 'bare line break', i);
    if (s[i] !== '=') return authError('syntax', `expected "=" after ${name}`, i);
    i++;
    if (!skipWs()) return authError('syntax', 'bare line break', i);
    let value: string;
    let quoted = false;
    if (s[i] === '"') {
      quoted = true;
      i++;
      let out = '';
      let closed = false;
      while (i < s.length) {
        const ch = s[i] as string;
        const c = ch.charCodeAt(0);
        if (ch === '"') {
          closed = true;
          i++;
          break;
        }
        if (ch === '\\') {
          const next = s.charCodeAt(i + 1);
          // quoted-pair excludes CR and LF.
          if (Number.isNaN(next) || next === 0x0a || next === 0x0d || next > 0x7f) {
            return authError('syntax', 'bad quoted-pair', i);
          }
          out += s[i + 1];
          i += 2;
          continue;
        }
        // qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII; CR/LF only as folding.
        if (c === 0x0d || c === 0x0a) {
          if (!skipWs()) return authError('syntax', 'line break inside quoted-string', i);
          out += ' ';
          continue;
        }
        if (c < 0x20 && c !== 0x09) return authError('syntax', 'control character', i);
        if (c === 0x7f) return authError('syntax', 'control character', i);
        out += ch;
        i++;
      }
      if (!closed) return authError('syntax', 'unterminated quoted-string', i);
      value = out;
    } else {
      value = readToken();
      if (value.length === 0) return authError('syntax', `expected a value for ${name}`, i);
    }
    const key = name.toLowerCase();
    if (params.has(key)) return authError('duplicate-param', `duplicate parameter ${key}`, nameAt);
    if (params.size >= AUTH_LIMITS.maxParams) {
      return authError('too-many-params', `more than ${AUTH_LIMITS.maxParams} parameters`, nameAt);
    }
    params.set(key, { value, quoted });
    if (!skipWs()) return authError('syntax', 'bare line break', i);
    if (i >= s.length) break;
    if (s[i] !== ',') return authError('syntax', 'expected "," between parameters', i);
    i++;
  }
  return { ok: true, value: { scheme, params } };
}

/** Whether a value can be written inside a quoted-string at all (no CR, LF, NUL, DEL). */
export function isQuotable(value: string): boolean {
  for (let k = 0; k < value.length; k++) {
    const c = value.charCodeAt(k);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

/** Quotes a value, escaping `"` and `\` as quoted-pairs. Callers check {@link isQuotable}. */
export function quote(value: string): string {
  return `"${value.replace(/["\\]/g, (m) => `\\${m}`)}"`;
}

/** One param to write: `quoted` says whether the grammar wants a quoted-string. */
export interface ParamToWrite {
  readonly name: string;
  readonly value: string;
  readonly quoted: boolean;
}

/**
 * Writes `scheme name=value, …`. Throws a plain Error on values that cannot be represented
 * (CR/LF in a quoted value, a non-token in a token value): those are programmer errors, since
 * values reaching the serializer come from this process, never straight off the wire.
 */
export function serializeAuthParams(scheme: string, params: readonly ParamToWrite[]): string {
  if (!isToken(scheme)) throw new Error(`auth scheme is not a token: ${JSON.stringify(scheme)}`);
  const parts: string[] = [];
  for (const p of params) {
    if (!isToken(p.name)) throw new Error(`auth-param name is not a token: ${p.name}`);
    if (p.quoted) {
      if (!isQuotable(p.value)) throw new Error(`auth-param ${p.name} has control characters`);
      parts.push(`${p.name}=${quote(p.value)}`);
    } else {
      if (!isToken(p.value)) throw new Error(`auth-param ${p.name} value is not a token`);
      parts.push(`${p.name}=${p.value}`);
    }
  }
  return `${scheme} ${parts.join(', ')}`;
}
