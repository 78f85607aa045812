/**
 * A minimal TURN client for tests (RFC 5766 Allocate over UDP with long-term credentials,
 * RFC 5389 §10.2), built on the server's STUN codec.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import {
  StunAttr,
  StunMethod,
  checkIntegrity,
  decodeErrorCode,
  decodeStun,
  decodeXorAddress,
  encodeStun,
  getAttribute,
  longTermKey,
  type StunAttribute,
  type StunMessage,
  type TransportAddress,
} from '@tfx/media/stun';

/** REQUESTED-TRANSPORT for UDP: protocol number 17 followed by three RFFU bytes. */
const UDP_TRANSPORT = Buffer.from([17, 0, 0, 0]);

export class UdpStunClient {
  private readonly socket: Socket;
  private readonly waiting = new Map<string, (m: StunMessage) => void>();

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('message', (buf) => {
      const r = decodeStun(buf);
      if (!r.ok) return;
      const key = r.message.transactionId.toString('hex');
      this.waiting.get(key)?.(r.message);
      this.waiting.delete(key);
    });
  }

  static async open(): Promise<UdpStunClient> {
    const s = createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    return new UdpStunClient(s);
  }

  /** Sends a request and waits for the response with the same transaction id (retransmitting
   * every 200 ms, as RFC 5389 §7.2.1 asks of UDP clients, up to `timeoutMs`). */
  request(
    port: number,
    method: number,
    attributes: StunAttribute[],
    integrityKey?: Buffer,
    timeoutMs = 3000,
  ): Promise<StunMessage> {
    const transactionId = randomBytes(12);
    const bytes = encodeStun(
      { method, class: 'request', transactionId, attributes },
      { integrityKey, fingerprint: true },
    );
    return new Promise<StunMessage>((resolve, reject) => {
      const send = (): void => this.socket.send(bytes, port, '127.0.0.1');
      const retry = setInterval(send, 200);
      const timer = setTimeout(() => {
        clearInterval(retry);
        this.waiting.delete(transactionId.toString('hex'));
        reject(new Error(`no STUN answer from 127.0.0.1:${port} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(transactionId.toString('hex'), (m) => {
        clearInterval(retry);
        clearTimeout(timer);
        resolve(m);
      });
      send();
    });
  }

  close(): void {
    this.socket.close();
  }
}

export interface AllocateResult {
  /** Final status: 200 on success, else the ERROR-CODE of the last answer. */
  readonly status: number;
  readonly relayed?: TransportAddress;
  readonly realm?: string;
  /** Whether the success answer's MESSAGE-INTEGRITY verified with our key. */
  readonly integrityOk?: boolean;
}

/**
 * RFC 5766 §6 Allocate with the long-term credential mechanism (RFC 5389 §10.2): the first
 * request carries no credentials and gets 401 with REALM and NONCE; the second carries USERNAME,
 * REALM, NONCE and MESSAGE-INTEGRITY keyed with MD5(username:realm:password).
 */
export async function allocate(
  port: number,
  username: string,
  password: string,
): Promise<AllocateResult> {
  const client = await UdpStunClient.open();
  try {
    const first = await client.request(port, StunMethod.allocate, [
      { type: StunAttr.requestedTransport, value: UDP_TRANSPORT },
    ]);
    const firstCode =
      first.class === 'error'
        ? decodeErrorCode(getAttribute(first, StunAttr.errorCode)!)?.code
        : 200;
    if (firstCode !== 401)
      throw new Error(`expected 401 to an unauthenticated Allocate, got ${firstCode}`);
    const realm = getAttribute(first, StunAttr.realm)?.toString('utf8');
    const nonce = getAttribute(first, StunAttr.nonce);
    if (!realm || !nonce) throw new Error('the 401 carries no REALM or NONCE');
    const key = longTermKey(username, realm, password);
    const second = await client.request(
      port,
      StunMethod.allocate,
      [
        { type: StunAttr.requestedTransport, value: UDP_TRANSPORT },
        { type: StunAttr.username, value: Buffer.from(username, 'utf8') },
        { type: StunAttr.realm, value: Buffer.from(realm, 'utf8') },
        { type: StunAttr.nonce, value: nonce },
      ],
      key,
    );
    if (second.class === 'success') {
      const relayedAttr = getAttribute(second, StunAttr.xorRelayedAddress);
      const relayed = relayedAttr ? decodeXorAddress(relayedAttr, second.transactionId) : undefined;
      // Release the allocation at once: Refresh with LIFETIME 0 (RFC 5766 §7).
      await client
        .request(
          port,
          StunMethod.refresh,
          [
            { type: StunAttr.lifetime, value: Buffer.alloc(4) },
            { type: StunAttr.username, value: Buffer.from(username, 'utf8') },
            { type: StunAttr.realm, value: Buffer.from(realm, 'utf8') },
            { type: StunAttr.nonce, value: nonce },
          ],
          key,
        )
        .catch(() => undefined);
      return {
        status: 200,
        realm,
        integrityOk: checkIntegrity(second, key) === true,
        ...(relayed ? { relayed } : {}),
      };
    }
    const code =
      decodeErrorCode(getAttribute(second, StunAttr.errorCode) ?? Buffer.alloc(0))?.code ?? 0;
    return { status: code, realm };
  } finally {
    client.close();
  }
}
