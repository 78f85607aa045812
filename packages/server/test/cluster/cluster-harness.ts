/**
 * Scale-out test harness: a real redis-server and real `tfx start` processes (SIP off, plain HTTP
 * on loopback) sharing it, with typed socket.io clients and helpers for metrics and REST.
 */
import { io, type Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  type ClientToServerEvents,
  type ConnectErrorData,
  type JoinRequest,
  type JoinResult,
  type ServerToClientEvents,
} from '@tfx/protocol';
import { startTfx, type TfxProcess } from '../../../../test/helpers/tfx-process.js';

export type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
export const ADMIN = 'scale-out-admin-token-0123456789';

export async function startNode(redisUrl: string, extra: string[] = []): Promise<TfxProcess> {
  return startTfx([
    '--no-sip',
    '--insecure-http',
    '--redis',
    redisUrl,
    '--admin-token',
    ADMIN,
    '--signalling-joins-per-ip-per-minute',
    '100000',
    '--log-level',
    'info',
    ...extra,
  ]);
}

export function urlOf(p: TfxProcess): string {
  return p.ready.url.replace(/\/$/, '');
}

const clients = new Set<Client>();

export function connect(url: string, auth: Record<string, unknown> = {}): Client {
  const c: Client = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: { protocol: PROTOCOL_VERSION, ...auth },
  });
  clients.add(c);
  return c;
}

export function open(url: string, auth: Record<string, unknown> = {}): Promise<Client> {
  const c = connect(url, auth);
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('connect_error', (err) => {
      const data = (err as Error & { data?: ConnectErrorData }).data;
      reject(Object.assign(new Error(data?.code ?? err.message), { data }));
    });
  });
}

export async function join(
  url: string,
  room: string,
  name: string,
  extra: Partial<JoinRequest> = {},
): Promise<{ client: Client; result: JoinResult }> {
  const client = await open(url);
  const ack = await client.timeout(10_000).emitWithAck('join', { room, name, ...extra });
  if (!ack.ok) throw Object.assign(new Error(ack.error.code), { error: ack.error });
  return { client, result: ack };
}

export function closeClients(): void {
  for (const c of clients) c.close();
  clients.clear();
}

export function next<E extends keyof ServerToClientEvents>(
  c: Client,
  event: E,
  ms = 10_000,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${String(event)} within ${ms} ms`)), ms);
    const on = c.once as (ev: string, fn: (arg: unknown) => void) => void;
    on.call(c, event as string, (arg: unknown) => {
      clearTimeout(t);
      resolve(arg as Parameters<ServerToClientEvents[E]>[0]);
    });
  });
}

export async function metric(
  p: TfxProcess,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const res = await fetch(`${urlOf(p)}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } });
  const text = await res.text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (want.every((w) => (m[2] ?? '').includes(w))) sum += Number(m[3]);
  }
  return sum;
}

export async function api<T>(p: TfxProcess, path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${urlOf(p)}/api/v1${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${ADMIN}`,
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
  });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export async function eventually(
  check: () => Promise<boolean> | boolean,
  ms = 10_000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
