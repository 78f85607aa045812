/**
 * `GET /api/v1/sbc/calls/{id}/ladder` (admin): both legs' SIP messages of a live or recently ended
 * SBC call, each tagged with its leg (a: the caller's, b: the trunk's), oldest first — what the
 * console draws as one ladder, caller ↔ SBC ↔ callee (issue #19 item 2). The same record as the
 * call's PCAP (signals.ts in @tfx/sbc), as JSON.
 */
import { serializeMessage } from '@tfx/sip';
import {
  TfxError,
  errorResponseSchema,
  sbcCallParamsSchema,
  sbcLadderSchema,
  type SbcLadder,
  type SbcLadderMessage,
} from '@tfx/protocol';
import type { Sbc } from '@tfx/sbc';
import type { PlatformContext } from '../module.js';

/** Longest message text served (SIP messages past the zones' maxBytes never get this far). */
export const MAX_TEXT = 16 * 1024;
const decoder = new TextDecoder();

const hostPort = (e: { address: string; port: number }): string =>
  e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;

/** The ladder of a call, or undefined for an id the SBC does not know (live or kept). */
export function callLadder(sbc: Sbc, id: string): SbcLadder | undefined {
  const live = sbc.calls().find((c) => c.id === id);
  let a: string | undefined;
  let b: string | undefined;
  if (live) {
    a = live.a.callId;
    b = live.b.callId;
  } else {
    const legs = sbc.signals.endedLegs(id);
    if (!legs) return undefined;
    [a, b] = legs;
  }
  const ids = [a, b].filter((x): x is string => x !== undefined);
  const messages: SbcLadderMessage[] = sbc.signals.messages(ids).map((e) => {
    const m = e.message;
    const callId = m.headers.callId()?.trim() ?? '';
    const cseq = m.headers.cseq();
    const [local, remote] = e.direction === 'in' ? [e.dst, e.src] : [e.src, e.dst];
    return {
      seq: e.seq,
      at: new Date(e.at).toISOString(),
      leg: callId === a ? 'a' : 'b',
      direction: e.direction,
      transport: e.transport,
      local: hostPort(local),
      remote: hostPort(remote),
      callId,
      summary: m.kind === 'request' ? m.method : `${m.status} ${m.reason}`,
      cseq: cseq ? `${cseq.seq} ${cseq.method}` : '',
      text: decoder.decode((e.bytes ?? serializeMessage(m)).subarray(0, MAX_TEXT)),
    };
  });
  return {
    id,
    live: live !== undefined,
    a: { ...(a !== undefined && { callId: a }), ...(live && { zone: live.a.zone }) },
    b: {
      ...(b !== undefined && { callId: b }),
      ...(live && { zone: live.b.zone, trunk: live.b.trunk }),
    },
    messages,
  };
}

export function registerLadderRoutes(ctx: PlatformContext, sbc: () => Sbc | undefined): void {
  ctx.app.get(
    '/api/v1/sbc/calls/:id/ladder',
    {
      preHandler: ctx.requireAdmin,
      schema: {
        summary: "A call's SIP messages on both legs, tagged by leg (live or recently ended)",
        description:
          'Every SIP message the SBC received or sent on leg A (the caller) and leg B (the ' +
          'trunk), oldest first, with the addresses of each: the console draws them as one ' +
          'ladder. The same record as GET /api/v1/sbc/calls/{id}/pcap.',
        operationId: 'getSbcCallLadder',
        tags: ['sbc'],
        security: [{ admin: [] }],
        params: sbcCallParamsSchema,
        response: {
          200: sbcLadderSchema,
          400: errorResponseSchema.describe('Not an SBC call id (bad-request).'),
          401: errorResponseSchema.describe('Missing or wrong admin token (unauthorized).'),
          404: errorResponseSchema.describe(
            'No such call, live or among the last ended (not-found).',
          ),
          503: errorResponseSchema.describe('The SBC is not running: no sbc.zones (unavailable).'),
        },
      },
    },
    async (req): Promise<SbcLadder> => {
      const s = sbc();
      if (!s) throw new TfxError('unavailable', 'the SBC is not running (no sbc.zones)');
      const { id } = req.params as { id: string };
      const ladder = callLadder(s, id);
      if (!ladder) throw new TfxError('not-found', `no SBC call ${id} (live or recently ended)`);
      return ladder;
    },
  );
}
