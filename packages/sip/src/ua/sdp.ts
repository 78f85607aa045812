/**
 * SDP helpers for hold and resume by re-INVITE (RFC 3264 §8.4): the caller supplies the SDP; these
 * only rewrite its direction attributes and bump the origin's session version (§8: "the
 * version in the origin line MUST increment by one" for each new offer). Pure text edits.
 */

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

const DIRECTION = /^a=(sendrecv|sendonly|recvonly|inactive)\r?$/;

/**
 * Sets the direction of every media section (and drops a session-level one, which would
 * otherwise apply to sections without their own), and increments the o= session version.
 */
export function withDirection(sdp: string, direction: Direction): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  const out: string[] = [];
  let inMedia = false;
  const flush = () => {
    if (inMedia) out.push(`a=${direction}`);
  };
  for (const line of lines) {
    if (line.startsWith('m=')) {
      flush();
      inMedia = true;
      out.push(line);
      continue;
    }
    if (DIRECTION.test(line)) continue;
    if (line.startsWith('o=')) {
      // o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>
      const parts = line.split(' ');
      const v = parts[2];
      if (parts.length >= 6 && v !== undefined && /^\d+$/.test(v)) {
        parts[2] = (BigInt(v) + 1n).toString();
        out.push(parts.join(' '));
        continue;
      }
    }
    out.push(line);
  }
  flush();
  return out.join(eol) + eol;
}

/** RFC 3264 §8.4: "a=sendonly" puts the peer on hold (or `inactive` if we were held too). */
export function holdSdp(sdp: string, direction: 'sendonly' | 'inactive' = 'sendonly'): string {
  return withDirection(sdp, direction);
}

export function resumeSdp(sdp: string): string {
  return withDirection(sdp, 'sendrecv');
}

/** The direction of the first media section (session-level if it has none); sendrecv by default. */
export function directionOf(sdp: string): Direction {
  let session: Direction | undefined;
  let inMedia = false;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      if (inMedia) break;
      inMedia = true;
      continue;
    }
    const m = DIRECTION.exec(line);
    if (m) {
      if (inMedia) return m[1] as Direction;
      session = m[1] as Direction;
    }
  }
  return session ?? 'sendrecv';
}
