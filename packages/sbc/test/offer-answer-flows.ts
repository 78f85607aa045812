/**
 * sipp scenarios of ours for the SBC's offer/answer and early-dialog flows (late offer, re-INVITE
 * without SDP, forking, 100rel per leg), generated from one set of pieces like
 * `packages/sip/test/peers/flows.ts`. Every header or body check is an `ereg` with `check_it`:
 * sipp fails the call (exit code ≠ 0) when it does not match.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const esc = (s: string): string => s.replace(/\./g, '\\.');

/** An SDP of this sipp (PCMA + telephone-event), `id` changes the o= version. */
const sdp = (version = 1): string => `v=0
      o=peer 1111 ${version} IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=rtcp:[rtcp] IN IP4 [media_ip]
`;

function withBody(body: string | undefined): string {
  if (body === undefined) return 'Content-Length: 0\n';
  return `Content-Type: application/sdp\n      Content-Length: [len]\n\n      ${body}`;
}

/** ereg checks on a received message (header checks name `Header:`, `body` searches the body). */
function checks(...c: Array<[where: string, regexp: string]>): string {
  if (c.length === 0) return '';
  const eregs = c.map(([where, regexp], i) =>
    where === 'body'
      ? `      <ereg regexp="${regexp}" search_in="body" check_it="true" assign_to="chk${uid()}_${i}"/>`
      : `      <ereg regexp="${regexp}" search_in="hdr" header="${where}" check_it="true" assign_to="chk${uid()}_${i}"/>`,
  );
  return `\n    <action>\n${eregs.join('\n')}\n    </action>\n  `;
}
let counter = 0;
const uid = (): number => ++counter;

function recv(what: string, attrs = '', c: Array<[string, string]> = []): string {
  const inner = checks(...c);
  return inner === ''
    ? `  <recv ${what} ${attrs}/>\n`
    : `  <recv ${what} ${attrs}>${inner}</recv>\n`;
}

// --- the caller (UAC) side ------------------------------------------------------------------------

function uacHeaders(cseq: number, method: string, extra: string[] = []): string {
  return [
    'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]',
    'From: <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]',
    'To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]',
    'Call-ID: [call_id]',
    `CSeq: ${cseq} ${method}`,
    'Contact: <sip:[caller]@[local_ip]:[local_port];transport=[transport]>',
    'Max-Forwards: 70',
    ...extra,
  ].join('\n      ');
}

function uacSend(
  line: string,
  cseq: number,
  method: string,
  body?: string,
  extra: string[] = [],
  retrans = true,
): string {
  return `  <send${retrans ? ' retrans="500"' : ''}>
    <![CDATA[
      ${line}
      ${uacHeaders(cseq, method, extra)}
      ${withBody(body)}
    ]]>
  </send>
`;
}

/** A response to the request sipp just received (UAS of an in-dialog request, or of the INVITE). */
function reply(status: string, body?: string, extra: string[] = [], toTag = ''): string {
  return `  <send>
    <![CDATA[
      SIP/2.0 ${status}
      [last_Via:]
      [last_From:]
      [last_To:]${toTag}
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:peer@[local_ip]:[local_port];transport=[transport]>
      ${[...extra, withBody(body)].join('\n      ')}
    ]]>
  </send>
`;
}

export interface CallerOptions {
  /** SDP in the INVITE (default) or none (late offer). */
  readonly offer: boolean;
  /** For a late offer: the ACK's body (the answer), none, or something that is not SDP. */
  readonly ackAnswer?: 'sdp' | 'none' | 'garbage';
  /** The zone address the SBC's SDP must show (c=). */
  readonly zoneAddress: string;
  /** Require: 100rel on the INVITE: the 180 comes reliably and is PRACKed. */
  readonly require100rel?: boolean;
  /** With `require100rel`: a reliable 183 with SDP follows the 180, PRACKed too. */
  readonly reliable183?: boolean;
  /** After the call is up: a re-INVITE of ours without SDP (2xx offers, our ACK answers). */
  readonly reinviteWithoutSdp?: boolean;
  /** Then: the far side's re-INVITE without SDP reaches us (we offer in our 2xx). */
  readonly expectReinviteWithoutSdp?: boolean;
  /** The call ends with the SBC's BYE (a hostile ACK) instead of ours. */
  readonly expectBye?: boolean;
}

export function callerXml(o: CallerOptions): string {
  const zone = esc(o.zoneAddress);
  let x = '';
  const extra = o.require100rel ? ['Supported: 100rel', 'Require: 100rel'] : [];
  x += uacSend(
    'INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0',
    1,
    'INVITE',
    o.offer ? sdp() : undefined,
    extra,
  );
  x += recv('response="100"', 'optional="true"');
  if (o.require100rel) {
    // RFC 3262: the SBC sends the 180 reliably (Require: 100rel, RSeq); we PRACK it.
    x += `  <recv response="180" rrs="true">
    <action>
      <ereg regexp="100rel" search_in="hdr" header="Require:" check_it="true" assign_to="req"/>
      <ereg regexp="[0-9]+" search_in="hdr" header="RSeq:" check_it="true" assign_to="rseq"/>
    </action>
  </recv>
`;
    x += uacSend('PRACK [next_url] SIP/2.0', 2, 'PRACK', undefined, ['RAck: [$rseq] 1 INVITE']);
    x += recv('response="200"', '', [['CSeq:', 'PRACK']]);
    if (o.reliable183) {
      // The trunk's 183 (early media) waited at the SBC for our PRACK of the 180, then came
      // reliably too, with the SDP rewritten; the 200 waits for our PRACK of it (RFC 3262 §3).
      x += `  <recv response="183">
    <action>
      <ereg regexp="[0-9]+" search_in="hdr" header="RSeq:" check_it="true" assign_to="rseq2"/>
      <ereg regexp="c=IN IP4 ${zone}" search_in="body" check_it="true" assign_to="early"/>
    </action>
  </recv>
`;
      // We PRACK late: the trunk's 200 reaches the SBC meanwhile, and A's 200 must wait.
      x += `  <pause milliseconds="1500"/>\n`;
      x += uacSend('PRACK [next_url] SIP/2.0', 3, 'PRACK', undefined, ['RAck: [$rseq2] 1 INVITE']);
      x += recv('response="200"', '', [['CSeq:', 'PRACK']]);
    }
  } else {
    x += recv('response="180"', 'optional="true"');
    x += recv('response="183"', 'optional="true"');
    x += recv('response="180"', 'optional="true"');
  }
  // The SBC's 200: the answer (or, for a late offer, its offer) with the zone's address.
  x += recv('response="200"', 'rtd="true" rrs="true"', [
    ['body', `c=IN IP4 ${zone}`],
    ['CSeq:', 'INVITE'],
  ]);
  let cseq = o.require100rel ? (o.reliable183 ? 4 : 3) : 2;
  const ackBody =
    o.offer || o.ackAnswer === 'none'
      ? undefined
      : o.ackAnswer === 'garbage'
        ? 'this is not SDP\n'
        : sdp(2);
  x += uacSend('ACK [next_url] SIP/2.0', 1, 'ACK', ackBody, [], false);
  if (o.expectBye) {
    // RFC 3264 §5: no usable answer in the ACK: the SBC ends both legs.
    x += recv('request="BYE"');
    x += reply('200 OK');
    return wrap('caller', x);
  }
  x += `  <nop>
    <action>
      <exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/>
    </action>
  </nop>
`;
  // Media plays meanwhile (the far side's re-INVITE, when one is expected, comes after its own).
  if (!o.expectReinviteWithoutSdp) x += `  <pause milliseconds="2500"/>\n`;
  if (o.reinviteWithoutSdp) {
    x += uacSend('INVITE [next_url] SIP/2.0', cseq, 'INVITE');
    x += recv('response="100"', 'optional="true"');
    x += recv('response="200"', '', [
      ['body', `c=IN IP4 ${zone}`],
      ['CSeq:', 'INVITE'],
    ]);
    x += uacSend('ACK [next_url] SIP/2.0', cseq, 'ACK', sdp(3), [], false);
    // Our BYE must not overtake the answer on its way through the engine to the far side's ACK.
    x += `  <pause milliseconds="1000"/>\n`;
    cseq++;
  }
  if (o.expectReinviteWithoutSdp) {
    x += recv('request="INVITE"', '', [['Content-Length:', '^ *0 *$']]);
    x += reply('200 OK', sdp(4));
    x += recv('request="ACK"', '', [['body', `c=IN IP4 ${zone}`]]);
    x += `  <pause milliseconds="300"/>\n`;
  }
  x += uacSend('BYE [next_url] SIP/2.0', cseq, 'BYE');
  x += recv('response="200"', 'crlf="true"');
  return wrap('caller', x);
}

// --- the callee (UAS) side -------------------------------------------------------------------------

export interface CalleeOptions {
  /** The zone address the SBC's SDP must show (c=). */
  readonly zoneAddress: string;
  /** The INVITE has no SDP (late offer): the 200 offers, the ACK must bring the answer. */
  readonly lateOffer?: boolean;
  /** The ACK of a late offer carries no answer (the SBC ends the call with BYE). */
  readonly ackWithoutAnswer?: boolean;
  /** 180 (and 183 with SDP) sent reliably (Require: 100rel, RSeq), each PRACKed by the SBC. */
  readonly reliable?: boolean;
  /** Before the 200: a 180 without SDP, then a 183 with SDP (early media). */
  readonly earlyMedia?: boolean;
  /** Forking: 180 from fork A, 183 with SDP from fork B, 200 from fork B, then fork A's 200. */
  readonly fork?: boolean;
  /** After the ACK: the caller's re-INVITE without SDP arrives (we offer in our 2xx). */
  readonly expectReinviteWithoutSdp?: boolean;
  /** Then: our own re-INVITE without SDP (the 2xx offers, our ACK answers). */
  readonly reinviteWithoutSdp?: boolean;
}

/** A response to the INVITE (whatever sipp received since), from its captured header values. */
function inviteReply(
  status: string,
  body: string | undefined,
  extra: string[],
  toTag: string,
  retrans = false,
): string {
  return `  <send${retrans ? ' retrans="500"' : ''}>
    <![CDATA[
      SIP/2.0 ${status}
      Via: [$rvia]
      From: [$rfrom]
      To: [$rto]${toTag}
      Call-ID: [call_id]
      CSeq: [$rcseq]
      Contact: <sip:peer@[local_ip]:[local_port];transport=[transport]>
      ${[...extra, withBody(body)].join('\n      ')}
    ]]>
  </send>
`;
}

const TAG = ';tag=[pid]SIPpTag01[call_number]';
const TAG_B = ';tag=[pid]SIPpTag02[call_number]';

export function calleeXml(o: CalleeOptions): string {
  const zone = esc(o.zoneAddress);
  let x = '';
  x += `  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="Via:" assign_to="rvia"/>
      <ereg regexp=".*" search_in="hdr" header="CSeq:" assign_to="rcseq"/>
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="rfrom"/>
      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="rto"/>
      <ereg regexp="sip:[^>]*" search_in="hdr" header="Contact:" assign_to="rcontact"/>
      ${
        o.lateOffer
          ? '<ereg regexp="^ *0 *$" search_in="hdr" header="Content-Length:" check_it="true" assign_to="nobody"/>'
          : `<ereg regexp="c=IN IP4 ${zone}" search_in="body" check_it="true" assign_to="offer"/>`
      }
      ${o.reliable ? '<ereg regexp="100rel" search_in="hdr" header="Supported:" check_it="true" assign_to="s100"/>' : ''}
    </action>
  </recv>
`;
  x += reply('100 Trying');
  const rel = (n: number) => (o.reliable ? ['Require: 100rel', `RSeq: ${n}`] : []);
  if (o.fork) {
    x += inviteReply('180 Ringing', undefined, [], TAG);
    x += inviteReply('183 Session Progress', sdp(), [], TAG_B);
  } else if (o.earlyMedia || o.reliable) {
    x += inviteReply('180 Ringing', undefined, rel(1), TAG, o.reliable);
    if (o.reliable) {
      x += recv('request="PRACK"', '', [['RAck:', '^ *1 [0-9]+ INVITE']]);
      x += reply('200 OK');
    }
    x += inviteReply('183 Session Progress', sdp(), rel(2), TAG, o.reliable);
    if (o.reliable) {
      x += recv('request="PRACK"', '', [['RAck:', '^ *2 [0-9]+ INVITE']]);
      x += reply('200 OK');
    }
  } else {
    x += inviteReply('180 Ringing', undefined, [], TAG);
  }
  x += `  <pause milliseconds="${o.fork ? 300 : 1000}"/>\n`;
  x += inviteReply('200 OK', sdp(), [], o.fork ? TAG_B : TAG, !o.fork);
  if (o.fork) {
    // §13.2.2.4: fork A answers too, after fork B's 2xx was ACKed: its 2xx is ACKed and its
    // dialog ended (BYE).
    x += recv('request="ACK"');
    x += inviteReply('200 OK', sdp(), [], TAG);
    x += recv('request="ACK"');
    x += recv('request="BYE"', '', [['To:', 'SIPpTag01']]);
    x += reply('200 OK');
  } else if (o.lateOffer && !o.ackWithoutAnswer) {
    // RFC 3264 §5: the ACK brings the caller's answer, rewritten to the zone's address.
    x += recv('request="ACK"', '', [['body', `c=IN IP4 ${zone}`]]);
  } else {
    x += recv('request="ACK"');
  }
  if (o.expectReinviteWithoutSdp) {
    x += recv('request="INVITE"', '', [['Content-Length:', '^ *0 *$']]);
    x += reply('200 OK', sdp(5));
    x += recv('request="ACK"', '', [['body', `c=IN IP4 ${zone}`]]);
  }
  if (o.reinviteWithoutSdp) {
    x += `  <pause milliseconds="2500"/>\n`;
    const h = (cseq: number, method: string, body?: string) => `
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$rto]${TAG}
      To: [$rfrom]
      Call-ID: [call_id]
      CSeq: ${cseq} ${method}
      Contact: <sip:peer@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      ${withBody(body)}`;
    x += `  <send retrans="500">
    <![CDATA[
      INVITE [$rcontact] SIP/2.0${h(1, 'INVITE')}
    ]]>
  </send>
`;
    x += recv('response="100"', 'optional="true"');
    x += recv('response="200"', '', [
      ['body', `c=IN IP4 ${zone}`],
      ['CSeq:', 'INVITE'],
    ]);
    x += `  <send>
    <![CDATA[
      ACK [$rcontact] SIP/2.0${h(1, 'ACK', sdp(6))}
    ]]>
  </send>
`;
  }
  x += recv('request="BYE"');
  x += reply('200 OK');
  x += `  <timewait milliseconds="1000"/>\n`;
  return wrap('callee', x);
}

function wrap(name: string, body: string): string {
  const vars = [...new Set([...body.matchAll(/assign_to="([A-Za-z0-9_]+)"/g)].map((m) => m[1]))];
  const ref = vars.length > 0 ? `  <Reference variables="${vars.join(',')}"/>\n` : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<scenario name="sbc-${name}">
${body}${ref}</scenario>
`;
}

/** Writes a scenario to a temp file and returns its path. */
export function scenarioFile(name: string, xml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sbc-flow-'));
  const file = join(dir, `${name}.xml`);
  writeFileSync(file, xml);
  return file;
}
