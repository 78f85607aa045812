/**
 * The built-in STUN responder: answers RFC 5389 Binding requests with XOR-MAPPED-ADDRESS and
 * FINGERPRINT, nothing else (no relay, no authentication). Enough for browsers to learn their
 * server-reflexive address when no coturn is deployed.
 *
 * `answerStun` is the pure core (bytes and the sender's address in, a reply or a reason to drop
 * out); `createStunModule` is the UDP listener around it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { Counter } from 'prom-client';
import { TfxError } from '@tfx/protocol';
import type { ListenerInfo, PlatformContext, PlatformModule } from '../module.js';
import {
  StunAttr,
  StunMethod,
  checkFingerprint,
  decodeStun,
  encodeErrorCode,
  encodeStun,
  encodeXorAddress,
  looksLikeStun,
  type StunAttribute,
  type StunMessage,
  type TransportAddress,
} from '@tfx/media/stun';

export type StunOutcome =
  | 'binding'
  | 'unknown-attribute'
  | 'bad-request'
  | 'dropped-not-stun'
  | 'dropped-malformed'
  | 'dropped-fingerprint'
  | 'dropped-not-request';

export interface StunAnswer {
  readonly outcome: StunOutcome;
  readonly reply?: Buffer;
}

/** Comprehension-required attributes (0x0000–0x7FFF) a Binding request may carry that we accept
 * and ignore: credentials and ICE attributes (clients send them to any STUN server). */
const UNDERSTOOD = new Set<number>([
  StunAttr.username,
  StunAttr.messageIntegrity,
  StunAttr.realm,
  StunAttr.nonce,
  StunAttr.priority,
  StunAttr.useCandidate,
]);

function errorReply(req: StunMessage, code: number, reason: string, extra: StunAttribute[] = []) {
  return encodeStun(
    {
      method: req.method,
      class: 'error',
      transactionId: req.transactionId,
      attributes: [{ type: StunAttr.errorCode, value: encodeErrorCode(code, reason) }, ...extra],
    },
    { fingerprint: true },
  );
}

/** Answer one datagram from `remote`. Pure. */
export function answerStun(datagram: Uint8Array, remote: TransportAddress): StunAnswer {
  if (!looksLikeStun(datagram)) return { outcome: 'dropped-not-stun' };
  const parsed = decodeStun(datagram);
  if (!parsed.ok) return { outcome: 'dropped-malformed' };
  const req = parsed.message;
  // RFC 5389 §7.3: a message whose FINGERPRINT is present but wrong is discarded.
  if (checkFingerprint(req) === false) return { outcome: 'dropped-fingerprint' };
  // RFC 5389 §7.3: success and error responses we never asked for are discarded; indications
  // need no answer.
  if (req.class !== 'request') return { outcome: 'dropped-not-request' };
  if (req.method !== StunMethod.binding)
    return { outcome: 'bad-request', reply: errorReply(req, 400, 'Bad Request: only Binding') };
  // RFC 5389 §7.3.1: "If the request contains one or more unknown comprehension-required
  // attributes, the server replies with an error response with an error code of 420 (Unknown
  // Attribute), and includes an UNKNOWN-ATTRIBUTES attribute in the response that lists the
  // unknown comprehension-required attributes."
  const unknown = [
    ...new Set(req.attributes.map((a) => a.type).filter((t) => t < 0x8000 && !UNDERSTOOD.has(t))),
  ];
  if (unknown.length > 0) {
    const list = Buffer.alloc(unknown.length * 2);
    unknown.forEach((t, i) => list.writeUInt16BE(t, i * 2));
    return {
      outcome: 'unknown-attribute',
      reply: errorReply(req, 420, 'Unknown Attribute', [
        { type: StunAttr.unknownAttributes, value: list },
      ]),
    };
  }
  // RFC 5389 §7.3.1 / §10: the success response carries the source transport address of the
  // request in XOR-MAPPED-ADDRESS.
  const reply = encodeStun(
    {
      method: StunMethod.binding,
      class: 'success',
      transactionId: req.transactionId,
      attributes: [
        { type: StunAttr.xorMappedAddress, value: encodeXorAddress(remote, req.transactionId) },
      ],
    },
    { fingerprint: true },
  );
  return { outcome: 'binding', reply };
}

export interface StunModule extends PlatformModule {
  /** The bound address once started (undefined when disabled or not started). */
  address(): { address: string; port: number } | undefined;
}

/** The UDP listener on `turn.stun.host`:`turn.stun.port` when `turn.stun.enabled`. */
export function createStunModule(): StunModule {
  let socket: Socket | undefined;
  let bound: { address: string; port: number } | undefined;
  let closed = false;

  return {
    name: 'stun',
    address: () => bound,
    async start(ctx: PlatformContext): Promise<readonly ListenerInfo[]> {
      const cfg = ctx.config.turn.stun;
      if (!cfg.enabled || closed) return [];
      const log = ctx.logger.child({ component: 'stun' });
      const counter = new Counter({
        name: 'tfx_stun_datagrams_total',
        help: 'Datagrams received by the built-in STUN responder, by outcome.',
        labelNames: ['outcome'],
        registers: [ctx.metrics],
      });
      const host = cfg.host ?? ctx.config.server.host;
      const sock = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
      socket = sock;
      sock.on('message', (msg, rinfo) => {
        try {
          const remote: TransportAddress = {
            family: rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4',
            address: rinfo.address,
            port: rinfo.port,
          };
          const answer = answerStun(msg, remote);
          counter.inc({ outcome: answer.outcome });
          if (answer.reply) sock.send(answer.reply, rinfo.port, rinfo.address);
        } catch (err) {
          // Never let one datagram take the process down.
          counter.inc({ outcome: 'dropped-malformed' });
          log.debug({ err, remote: `${rinfo.address}:${rinfo.port}` }, 'stun datagram failed');
        }
      });
      sock.on('error', (err) => log.warn({ err }, 'stun socket error'));
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind({ address: host, port: cfg.port }, () => {
          sock.off('error', reject);
          resolve();
        });
      }).catch((err: unknown) => {
        throw new TfxError(
          'listen-failed',
          `stun: cannot listen on udp ${host}:${cfg.port}: ${(err as Error).message}`,
          { key: 'turn.stun.port' },
          { cause: err },
        );
      });
      const a = sock.address();
      bound = { address: a.address, port: a.port };
      const urlHost = new URL(ctx.publicUrl() || 'https://localhost').hostname;
      log.info({ address: a.address, port: a.port }, 'stun responder listening');
      return [
        {
          name: 'stun',
          protocol: 'udp',
          address: a.address,
          port: a.port,
          url: `stun:${urlHost}:${a.port}`,
        },
      ];
    },
    close(): Promise<void> {
      closed = true;
      const s = socket;
      socket = undefined;
      bound = undefined;
      if (!s) return Promise.resolve();
      return new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}
