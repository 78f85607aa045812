/**
 * A small authoritative DNS server on 127.0.0.1 for tests: answers NAPTR, SRV, A and AAAA from a
 * table, NXDOMAIN for names it does not know, and counts the queries it got. Encoding and decoding
 * by dns-packet; the socket is ours. Started and stopped by the test that uses it.
 */
import { createSocket, type Socket } from 'node:dgram';
import * as packet from 'dns-packet';

export type TestRecord =
  | { type: 'A'; data: string }
  | { type: 'AAAA'; data: string }
  | { type: 'SRV'; data: { priority: number; weight: number; port: number; target: string } }
  | {
      type: 'NAPTR';
      data: {
        order: number;
        preference: number;
        flags: string;
        services: string;
        regexp: string;
        replacement: string;
      };
    };

export interface TestDnsServer {
  readonly port: number;
  readonly queries: string[];
  close(): Promise<void>;
}

export async function startDnsServer(zone: Record<string, TestRecord[]>): Promise<TestDnsServer> {
  const socket: Socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (msg, rinfo) => {
    let q: packet.Packet;
    try {
      q = packet.decode(msg);
    } catch {
      return;
    }
    const question = q.questions?.[0];
    if (!question) return;
    const name = question.name.toLowerCase();
    queries.push(`${question.type} ${name}`);
    const known = zone[name];
    const answers = (known ?? [])
      .filter((r) => r.type === question.type)
      .map((r) => ({ ...r, name: question.name, ttl: 60, class: 'IN' as const }));
    const reply = packet.encode({
      id: q.id,
      type: 'response',
      flags: packet.AUTHORITATIVE_ANSWER | (known ? 0 : 3), // rcode 3: NXDOMAIN
      questions: [question],
      answers: answers as packet.Answer[],
    });
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
