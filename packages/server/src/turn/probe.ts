/**
 * A live TURN allocation test (what the console's TURN page runs): from this server, an RFC 5766
 * §6 Allocate over UDP to a configured `turn:` URL with credentials minted like a browser's
 * (TURN REST scheme, turn.secret), then the allocation is released at once (Refresh, LIFETIME 0,
 * §7). The outcome says what an operator needs: 200 and the relayed address, or the TURN error
 * (401: coturn refused the credentials — the shared secret differs), or no answer.
 *
 * RFC 5389 §10.2.2: "the client SHOULD … retry the request with the … USERNAME, REALM, NONCE and
 * MESSAGE-INTEGRITY" after a 401 carrying REALM and NONCE; the key is MD5(username:realm:password).
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import {
  StunAttr,
  StunMethod,
  decodeErrorCode,
  decodeStun,
  decodeXorAddress,
  encodeStun,
  getAttribute,
  longTermKey,
  type StunAttribute,
  type StunMessage,
} from '@tfx/media/stun';

/** REQUESTED-TRANSPORT for UDP (RFC 5766 §14.7): protocol 17, then three RFFU bytes. */
const UDP_TRANSPORT = Buffer.from([17, 0, 0, 0]);

export interface TurnUrl {
  readonly scheme: 'stun' | 'stuns' | 'turn' | 'turns';
  readonly host: string;
  readonly port: number;
  readonly transport: 'udp' | 'tcp' | 'tls';
}

/** RFC 7065 `turn:host[:port][?transport=udp|tcp]`; undefined when it is not one. Pure. */
export function parseTurnUrl(url: string): TurnUrl | undefined {
  const m =
    /^(stuns?|turns?):(\[[0-9a-fA-F:.]+\]|[^\s:?[\]/]+)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/i.exec(
      url.trim(),
    );
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase() as TurnUrl['scheme'];
  const secure = scheme.endsWith('s');
  const port = m[3] ? Number(m[3]) : secure ? 5349 : 3478;
  if (port < 1 || port > 65_535) return undefined;
  const transport = secure ? 'tls' : ((m[4]?.toLowerCase() as 'udp' | 'tcp' | undefined) ?? 'udp');
  return { scheme, host: m[2]!.replace(/^\[|\]$/g, ''), port, transport };
}

export interface ProbeOutcome {
  readonly ok: boolean;
  /** 200, the TURN ERROR-CODE, or 0 when nothing answered. */
  readonly status: number;
  readonly message: string;
  readonly relayed?: string;
  readonly realm?: string;
}

class UdpRequester {
  readonly #socket: Socket;
  readonly #waiting = new Map<string, (m: StunMessage) => void>();
  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('message', (buf) => {
      const r = decodeStun(buf);
      if (!r.ok) return;
      const key = r.message.transactionId.toString('hex');
      this.#waiting.get(key)?.(r.message);
      this.#waiting.delete(key);
    });
  }

  /** RFC 5389 §7.2.1: over UDP, retransmit (here every 250 ms) until an answer or the timeout. */
  request(
    host: string,
    port: number,
    method: number,
    attributes: StunAttribute[],
    key: Buffer | undefined,
    timeoutMs: number,
  ): Promise<StunMessage | undefined> {
    const transactionId = randomBytes(12);
    const id = transactionId.toString('hex');
    const bytes = encodeStun(
      { method, class: 'request', transactionId, attributes },
      { integrityKey: key, fingerprint: true },
    );
    return new Promise((resolve) => {
      const send = (): void => this.#socket.send(bytes, port, host);
      const retry = setInterval(send, 250);
      const timer = setTimeout(() => {
        clearInterval(retry);
        this.#waiting.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.#waiting.set(id, (m) => {
        clearInterval(retry);
        clearTimeout(timer);
        resolve(m);
      });
      send();
    });
  }
}

function errorOf(m: StunMessage): { code: number; reason: string } {
  const attr = getAttribute(m, StunAttr.errorCode);
  return (attr && decodeErrorCode(attr)) || { code: 0, reason: 'no ERROR-CODE' };
}

/** One Allocate (and its release) against `url` with `username`/`password`. Never throws. */
export async function probeTurn(
  url: string,
  username: string,
  password: string,
  timeoutMs = 3000,
): Promise<ProbeOutcome> {
  const t = parseTurnUrl(url);
  if (!t || !t.scheme.startsWith('turn'))
    return { ok: false, status: 0, message: `not a turn: URL: ${url}` };
  if (t.transport !== 'udp')
    return { ok: false, status: 0, message: `only UDP is tested (${t.transport} URL)` };
  let address = t.host;
  if (isIP(address) === 0) {
    try {
      address = (await lookup(t.host)).address;
    } catch (err) {
      return {
        ok: false,
        status: 0,
        message: `cannot resolve ${t.host}: ${(err as Error).message}`,
      };
    }
  }
  const socket = createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
  socket.on('error', () => undefined);
  try {
    const client = new UdpRequester(socket);
    const transport = { type: StunAttr.requestedTransport, value: UDP_TRANSPORT };
    const first = await client.request(
      address,
      t.port,
      StunMethod.allocate,
      [transport],
      undefined,
      timeoutMs,
    );
    if (!first)
      return {
        ok: false,
        status: 0,
        message: `no answer from ${address}:${t.port} in ${timeoutMs} ms`,
      };
    if (first.class !== 'error' || errorOf(first).code !== 401)
      return {
        ok: false,
        status: errorOf(first).code,
        message: 'the server did not ask for credentials (401)',
      };
    const realm = getAttribute(first, StunAttr.realm)?.toString('utf8');
    const nonce = getAttribute(first, StunAttr.nonce);
    if (!realm || !nonce)
      return { ok: false, status: 401, message: 'the 401 carries no REALM or NONCE' };
    const key = longTermKey(username, realm, password);
    const auth: StunAttribute[] = [
      { type: StunAttr.username, value: Buffer.from(username, 'utf8') },
      { type: StunAttr.realm, value: Buffer.from(realm, 'utf8') },
      { type: StunAttr.nonce, value: nonce },
    ];
    const second = await client.request(
      address,
      t.port,
      StunMethod.allocate,
      [transport, ...auth],
      key,
      timeoutMs,
    );
    if (!second)
      return { ok: false, status: 0, message: 'no answer to the authenticated Allocate', realm };
    if (second.class !== 'success') {
      const e = errorOf(second);
      const hint =
        e.code === 401
          ? " (credentials refused: does turn.secret match coturn's static-auth-secret?)"
          : '';
      return { ok: false, status: e.code, message: `${e.code} ${e.reason}${hint}`, realm };
    }
    const relayedAttr = getAttribute(second, StunAttr.xorRelayedAddress);
    const relayed = relayedAttr ? decodeXorAddress(relayedAttr, second.transactionId) : undefined;
    // Release the allocation at once (RFC 5766 §7: a Refresh with LIFETIME 0 deletes it).
    await client.request(
      address,
      t.port,
      StunMethod.refresh,
      [{ type: StunAttr.lifetime, value: Buffer.alloc(4) }, ...auth],
      key,
      Math.min(timeoutMs, 1000),
    );
    return {
      ok: true,
      status: 200,
      message: 'allocation granted and released',
      realm,
      ...(relayed ? { relayed: `${relayed.address}:${relayed.port}` } : {}),
    };
  } finally {
    socket.close();
  }
}
