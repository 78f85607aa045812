/** Shared helpers for the transport integration tests (not a test file itself). */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { InboundMessage, TransportLayer } from '../../src/transport/index.js';

const enc = new TextEncoder();

/** A SIP request as text, with a correct Content-Length. */
export function sipRequest(
  opts: {
    method?: string;
    transport?: string;
    sentBy?: string;
    callId?: string;
    cseq?: number;
    body?: string;
    extra?: string[];
    rport?: boolean;
  } = {},
): string {
  const method = opts.method ?? 'OPTIONS';
  const body = opts.body ?? '';
  const lines = [
    `${method} sip:service@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/${opts.transport ?? 'UDP'} ${opts.sentBy ?? 'client.invalid:5099'};branch=z9hG4bK${Math.random().toString(36).slice(2)}${opts.rport === false ? '' : ';rport'}`,
    'Max-Forwards: 70',
    'From: <sip:alice@example.com>;tag=a1',
    'To: <sip:service@example.com>',
    `Call-ID: ${opts.callId ?? Math.random().toString(36).slice(2)}`,
    `CSeq: ${opts.cseq ?? 1} ${method}`,
    ...(opts.extra ?? []),
    `Content-Length: ${enc.encode(body).length}`,
  ];
  return lines.join('\r\n') + '\r\n\r\n' + body;
}

/** Polls until the predicate holds (the machine is shared and slow: generous default). */
export async function waitFor(predicate: () => boolean, timeoutMs = 10_000, what = 'condition') {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Collects what the layer delivers. */
export function collect(layer: TransportLayer): InboundMessage[] {
  const inbound: InboundMessage[] = [];
  layer.onMessage((m) => inbound.push(m));
  return inbound;
}

/** A raw TCP client that accumulates everything it reads as text. */
export class RawClient {
  text = '';
  closed = false;
  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (this.text += d));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }

  static async open(host: string, port: number): Promise<RawClient> {
    const socket = connect({ host, port });
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  static wrap(socket: Socket): RawClient {
    return new RawClient(socket);
  }

  write(text: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.write(text, 'latin1', (e) => (e ? reject(e) : resolve())),
    );
  }

  /** Counts complete SIP status lines seen so far. */
  statusLines(): string[] {
    return this.text.match(/SIP\/2\.0 \d{3} [^\r\n]*/g) ?? [];
  }

  close(): void {
    this.socket.destroy();
  }
}
