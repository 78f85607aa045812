/**
 * sipp scenarios of ours for the RFC 3262 (PRACK), RFC 3311 (UPDATE) and RFC 4028 (session
 * timer refresh) call flows, with sipp as the caller. One source for two runs: straight at the
 * UA core, and through the TFX proxy (then the first INVITE is challenged, 407, and answered
 * with digest credentials from `-au`/`-ap`, and in-dialog requests follow the Record-Route set,
 * `rrs`). Written to a temp file per run; sipp exits 0 only if every step matched.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerInvite } from '../../src/dialog/index.js';
import { UserAgentCore } from '../../src/ua/index.js';

export type Flow = 'prack' | 'update' | 'timer';

export interface FlowOptions {
  /** Through the proxy: answer a 407 with credentials first. */
  readonly auth: boolean;
}

const SDP = `v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
`;

const SDP2 = SDP.replace('53655765 2353687637', '53655765 2353687638').replace(
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:0 PCMU/8000\n      a=sendonly',
);

function dialogHeaders(cseq: number, method: string, extra: string[] = []): string {
  return [
    'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]',
    '[routes]',
    'From: <sip:[caller]@[domain]>;tag=[call_number]',
    'To: <sip:[service]@[domain]>[peer_tag_param]',
    'Call-ID: [call_id]',
    `CSeq: ${cseq} ${method}`,
    'Contact: <sip:[caller]@[local_ip]:[local_port];transport=[transport]>',
    'Max-Forwards: 70',
    ...extra,
  ].join('\n      ');
}

function invite(cseq: number, extra: string[], auth: boolean): string {
  return `  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[domain] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[caller]@[domain]>;tag=[call_number]
      To: <sip:[service]@[domain]>
      Call-ID: [call_id]
      CSeq: ${cseq} INVITE
      Contact: <sip:[caller]@[local_ip]:[local_port];transport=[transport]>
      ${auth ? '[authentication]\n      ' : ''}Max-Forwards: 70
      ${extra.join('\n      ')}
      Content-Type: application/sdp
      Content-Length: [len]

      ${SDP}
    ]]>
  </send>
  <recv response="100" optional="true"/>
`;
}

/** The INVITE, with the 407 round first when through the proxy; returns [xml, INVITE CSeq]. */
function opening(extra: string[], o: FlowOptions): [string, number] {
  if (!o.auth) return [invite(1, extra, false), 1];
  const first = `${invite(1, extra, false)}  <recv response="407" auth="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[domain] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-3]
      From: <sip:[caller]@[domain]>;tag=[call_number]
      To: <sip:[service]@[domain]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
`;
  return [first + invite(2, extra, true), 2];
}

function inDialog(cseq: number, method: string, extra: string[] = [], body?: string): string {
  return `  <send retrans="500">
    <![CDATA[
      ${method} [next_url] SIP/2.0
      ${dialogHeaders(cseq, method, extra)}
      ${body ? 'Content-Type: application/sdp\n      Content-Length: [len]\n\n      ' + body : 'Content-Length: 0\n'}
    ]]>
  </send>
`;
}

function ack(cseq: number): string {
  return `  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      ${dialogHeaders(cseq, 'ACK')}
      Content-Length: 0

    ]]>
  </send>
`;
}

/** Header checks: sipp fails the call if a regexp does not match its header. */
function checks(...c: Array<[header: string, regexp: string, variable: string]>): string {
  const eregs = c.map(
    ([header, regexp, variable]) =>
      `      <ereg regexp="${regexp}" search_in="hdr" header="${header}" check_it="true" assign_to="${variable}"/>`,
  );
  return `    <action>\n${eregs.join('\n')}\n    </action>\n`;
}

export function flowXml(flow: Flow, o: FlowOptions): string {
  let body = '';
  if (flow === 'prack') {
    // RFC 3262 §3/§4: Require: 100rel; the 180 comes reliably (Require: 100rel, RSeq); we PRACK
    // it with RAck "RSeq CSeq INVITE", get 200 to the PRACK, then the 200 to the INVITE.
    const [open, c] = opening(['Supported: 100rel', 'Require: 100rel'], o);
    body += open;
    body += `  <recv response="180" rrs="true">
${checks(['Require:', '100rel', 'req'], ['RSeq:', '[0-9]+', 'rseq'])}  </recv>
`;
    body += inDialog(c + 1, 'PRACK', [`RAck: [$rseq] ${c} INVITE`]);
    body += `  <recv response="200" crlf="true">
${checks(['CSeq:', 'PRACK', 'pm'])}  </recv>
  <recv response="200" rrs="true">
${checks(['CSeq:', 'INVITE', 'im'])}  </recv>
`;
    body += ack(c);
    body += `  <pause milliseconds="200"/>\n`;
    body += inDialog(c + 2, 'BYE');
  } else if (flow === 'update') {
    // RFC 3311 §5: an UPDATE in the confirmed dialog carrying a new offer (sendonly); the 2xx
    // carries the answer (recvonly).
    const [open, c] = opening([], o);
    body += open;
    body += `  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
`;
    body += ack(c);
    body += inDialog(c + 1, 'UPDATE', [], SDP2);
    body += `  <recv response="200">
    <action>
      <ereg regexp="a=recvonly" search_in="body" check_it="true" assign_to="answer"/>
    </action>
  </recv>
`;
    body += inDialog(c + 2, 'BYE');
  } else {
    // RFC 4028: Session-Expires 90 with refresher=uac (us). The 2xx confirms it (§9, with
    // Require: timer); we refresh with an UPDATE (§7.4 allows one without a body), whose 2xx
    // again carries Session-Expires.
    const se = ['Supported: timer', 'Session-Expires: 90;refresher=uac', 'Min-SE: 90'];
    const [open, c] = opening(se, o);
    body += open;
    body += `  <recv response="180" optional="true"/>
  <recv response="200" rrs="true">
${checks(['Session-Expires:', '90;refresher=uac', 'se1'], ['Require:', 'timer', 'rt'])}  </recv>
`;
    body += ack(c);
    body += `  <pause milliseconds="500"/>\n`;
    body += inDialog(c + 1, 'UPDATE', ['Supported: timer', 'Session-Expires: 90;refresher=uac']);
    body += `  <recv response="200">
${checks(['Session-Expires:', '90', 'se2'])}  </recv>
`;
    body += inDialog(c + 2, 'BYE');
  }
  body += `  <recv response="200" crlf="true"/>\n`;
  // Variables assigned only to check a header are "used" here (else sipp refuses the scenario).
  const vars = [...body.matchAll(/assign_to="([a-z0-9]+)"/g)].map((m) => m[1]);
  if (vars.length > 0) body += `  <Reference variables="${vars.join(',')}"/>\n`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<scenario name="tfx-${flow}${o.auth ? '-proxied' : ''}">
${body}</scenario>
`;
}

/** Writes the scenario to a temp file and returns its path. */
export function flowFile(flow: Flow, o: FlowOptions): string {
  const dir = mkdtempSync(join(tmpdir(), 'tfx-flow-'));
  const file = join(dir, `${flow}.xml`);
  writeFileSync(file, flowXml(flow, o));
  return file;
}

/** The UA core's side of each flow: what it supports. */
export const FLOW_SUPPORTED: Record<Flow, readonly string[]> = {
  prack: ['100rel'],
  update: [],
  timer: ['timer'],
};

/**
 * The UA core's app for each flow: answers the INVITE (after the PRACK, for `prack`), answers an
 * UPDATE offer (for `update`), and records what it saw, to compare with `expected`.
 */
export function uaCoreFlowHandler(flow: Flow): {
  onInvite: (invite: ServerInvite) => void;
  readonly seen: string[];
  readonly expected: readonly string[];
  readonly ended: string | undefined;
} {
  const seen: string[] = [];
  let ended: string | undefined;
  const answerSdp = (version: number, direction = 'sendrecv') =>
    `v=0\r\no=- ${version} ${version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 42000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=${direction}\r\n`;
  const onInvite = (invite: ServerInvite) => {
    seen.push('INVITE');
    const accept = () => {
      const session = invite.accept({ body: answerSdp(1), contentType: 'application/sdp' });
      session.events.onTerminated = (r) => (ended = r);
      session.events.onRequest = (request, respond) => {
        seen.push(request.method);
        const offer = new TextDecoder().decode(request.body ?? new Uint8Array());
        if (request.method === 'UPDATE' && /a=sendonly/.test(offer)) {
          respond(200, { body: answerSdp(2, 'recvonly'), contentType: 'application/sdp' });
        } else respond(200);
      };
    };
    if (flow !== 'prack') {
      invite.progress(180);
      accept();
      return;
    }
    invite.progress(180);
    // RFC 3262 §3: a 2xx may follow before the PRACK; we wait for it, so the flow is the RFC's.
    const wait = setInterval(() => {
      if (invite.unacked === undefined) {
        clearInterval(wait);
        seen.push('PRACK');
        accept();
      }
    }, 10);
  };
  return {
    onInvite,
    seen,
    // The timer flow's refresh is an UPDATE too: it reaches the app (it could carry an offer);
    // the dialog layer adds Session-Expires to the 2xx (RFC 4028 §9).
    expected: flow === 'prack' ? ['INVITE', 'PRACK'] : ['INVITE', 'UPDATE'],
    get ended() {
      return ended;
    },
  };
}

/** A UA core (bob, UDP on 127.0.0.1) set up for a flow, with its app handler. */
export function flowUserAgent(flow: Flow): {
  ua: UserAgentCore;
  handler: ReturnType<typeof uaCoreFlowHandler>;
} {
  const handler = uaCoreFlowHandler(flow);
  const ua = new UserAgentCore({
    user: 'bob',
    supported: FLOW_SUPPORTED[flow],
    onInvite: handler.onInvite,
  });
  return { ua, handler };
}
