/**
 * A trunk of ours for quality tests (issue #18: "an RTP probe of ours on the trunk side drops
 * packets, so the engine's MOS falls"): one UDP socket for SIP that answers each INVITE 180 then
 * 200 with an SDP answer naming its own RTP socket, and, once the ACK arrives, sends PCMA RTP
 * (20 ms packets, RFC 3550 §5.1 sequence numbers and timestamps) to the media address of the
 * SBC's offer, skipping every `dropEvery`-th sequence number (5: 20 % loss, seen by the engine as
 * sequence gaps). `hangup()` sends the BYE (RFC 3261 §15.1.1) of the last answered call.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';

export interface RtpTrunk {
  readonly sipPort: number;
  /** INVITEs received (each once, retransmissions aside). */
  readonly invites: string[];
  /** RTP packets sent and skipped (the loss) so far. */
  readonly rtp: { sent: number; dropped: number };
  /** Sends BYE for the current call and stops its RTP; resolves when the 200 arrives. */
  hangup(): Promise<void>;
  close(): Promise<void>;
}

interface Current {
  readonly callId: string;
  readonly from: string;
  readonly to: string;
  readonly contact: string;
  readonly remote: RemoteInfo;
  readonly media: { address: string; port: number; pt: number };
  readonly answer: string;
  timer?: NodeJS.Timeout;
}

const field = (text: string, re: RegExp): string | undefined => re.exec(text)?.[1]?.trim();

export async function rtpTrunk(address: string, dropEvery: number): Promise<RtpTrunk> {
  const sip: Socket = createSocket('udp4');
  const rtp: Socket = createSocket('udp4');
  await new Promise<void>((r) => sip.bind(0, address, () => r()));
  await new Promise<void>((r) => rtp.bind(0, address, () => r()));
  const sipPort = sip.address().port;
  const rtpPort = rtp.address().port;
  const invites: string[] = [];
  const stats = { sent: 0, dropped: 0 };
  let current: Current | undefined;
  let byeDone: (() => void) | undefined;
  const tag = `rtp${randomBytes(4).toString('hex')}`;

  const stopMedia = (): void => {
    if (current?.timer) clearInterval(current.timer);
    if (current) current.timer = undefined;
  };

  const startMedia = (c: Current): void => {
    if (c.timer) return;
    let seq = Math.floor(Math.random() * 1000);
    let ts = Math.floor(Math.random() * 100_000);
    const ssrc = randomBytes(4).readUInt32BE(0);
    const payload = Buffer.alloc(160, 0xd5); // PCMA silence
    c.timer = setInterval(() => {
      seq = (seq + 1) & 0xffff;
      ts = (ts + 160) >>> 0;
      if (dropEvery > 0 && seq % dropEvery === 0) {
        stats.dropped++;
        return;
      }
      const h = Buffer.alloc(12);
      h[0] = 0x80;
      h[1] = c.media.pt & 0x7f;
      h.writeUInt16BE(seq, 2);
      h.writeUInt32BE(ts, 4);
      h.writeUInt32BE(ssrc, 8);
      rtp.send(Buffer.concat([h, payload]), c.media.port, c.media.address);
      stats.sent++;
    }, 20);
  };

  const reply = (req: string, status: string, to: string, extra: string[], body = ''): string => {
    const lines = req.split('\r\n');
    const keep = lines.filter((l) => /^(Via|v|From|f|Call-ID|i|CSeq):/i.test(l));
    return [
      `SIP/2.0 ${status}`,
      ...keep,
      `To: ${to}`,
      ...extra,
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
  };

  sip.on('message', (buf, rinfo) => {
    const text = buf.toString('latin1');
    const first = text.split('\r\n', 1)[0] ?? '';
    if (first.startsWith('SIP/2.0 ')) {
      // The 200 to our BYE.
      if (/^CSeq:\s*\d+\s+BYE/im.test(text) && / 200 /.test(first)) byeDone?.();
      return;
    }
    const method = /^([A-Z]+) /.exec(first)?.[1];
    const callId = field(text, /^(?:Call-ID|i):(.*)$/im) ?? '';
    if (method === 'INVITE') {
      if (current?.callId === callId) {
        sip.send(current.answer, rinfo.port, rinfo.address); // a retransmission
        return;
      }
      invites.push(first);
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      const c = field(body, /^c=IN IP4 (\S+)/m) ?? rinfo.address;
      const m = /^m=audio (\d+) RTP\/AVP (\d+)/m.exec(body);
      const toHdr = field(text, /^(?:To|t):(.*)$/im) ?? '<sip:x@invalid>';
      const to = `${toHdr};tag=${tag}`;
      const sdp = [
        'v=0',
        `o=trunk 1 1 IN IP4 ${address}`,
        's=-',
        `c=IN IP4 ${address}`,
        't=0 0',
        `m=audio ${rtpPort} RTP/AVP ${m?.[2] ?? '8'}`,
        `a=rtpmap:${m?.[2] ?? '8'} PCMA/8000`,
        'a=sendrecv',
        '',
      ].join('\r\n');
      const contact = `Contact: <sip:trunk@${address}:${sipPort}>`;
      sip.send(reply(text, '180 Ringing', to, [contact]), rinfo.port, rinfo.address);
      const answer = reply(text, '200 OK', to, [contact, 'Content-Type: application/sdp'], sdp);
      stopMedia();
      current = {
        callId,
        from: field(text, /^(?:From|f):(.*)$/im) ?? '',
        to,
        contact:
          field(text, /^(?:Contact|m):\s*<([^>]+)>/im) ?? `sip:${rinfo.address}:${rinfo.port}`,
        remote: rinfo,
        media: { address: c, port: Number(m?.[1] ?? 0), pt: Number(m?.[2] ?? 8) },
        answer,
      };
      sip.send(answer, rinfo.port, rinfo.address);
      return;
    }
    if (method === 'ACK') {
      if (current?.callId === callId && current.media.port > 0) startMedia(current);
      return;
    }
    if (method === 'BYE') {
      if (current?.callId === callId) stopMedia();
      const to = field(text, /^(?:To|t):(.*)$/im) ?? '';
      sip.send(reply(text, '200 OK', to, []), rinfo.port, rinfo.address);
      return;
    }
    if (method && method !== 'ACK') {
      const to = field(text, /^(?:To|t):(.*)$/im) ?? '';
      sip.send(reply(text, '200 OK', to, []), rinfo.port, rinfo.address);
    }
  });

  return {
    sipPort,
    invites,
    rtp: stats,
    hangup() {
      const c = current;
      if (!c) return Promise.reject(new Error('no call to hang up'));
      stopMedia();
      const bye = [
        `BYE ${c.contact} SIP/2.0`,
        `Via: SIP/2.0/UDP ${address}:${sipPort};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
        `From: ${c.to}`,
        `To: ${c.from}`,
        `Call-ID: ${c.callId}`,
        'CSeq: 1 BYE',
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      return new Promise<void>((resolve, reject) => {
        // Timer E as RFC 3261 §17.1.2.2 (T1 500 ms), bounded.
        let tries = 0;
        const send = (): void => {
          if (tries++ > 10) {
            clearInterval(again);
            reject(new Error('BYE unanswered'));
            return;
          }
          sip.send(bye, c.remote.port, c.remote.address);
        };
        const again = setInterval(send, 500);
        byeDone = () => {
          clearInterval(again);
          byeDone = undefined;
          resolve();
        };
        send();
      });
    },
    close: async () => {
      stopMedia();
      await new Promise<void>((r) => sip.close(() => r()));
      await new Promise<void>((r) => rtp.close(() => r()));
    },
  };
}
