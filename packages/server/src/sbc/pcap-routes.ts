/**
 * `GET /api/v1/sbc/calls/{id}/pcap` (admin): both legs' SIP signalling of a live or recently
 * ended SBC call as a PCAP file (signals.ts in @tfx/sbc keeps it, bounded), for Wireshark/tshark.
 */
import { TfxError, errorResponseSchema, mergePcaps, sbcCallParamsSchema } from '@tfx/protocol';
import type { Sbc } from '@tfx/sbc';
import type { PlatformContext } from '../module.js';

export function registerPcapRoutes(
  ctx: PlatformContext,
  sbc: () => Sbc | undefined,
  /** A recorded call's RTP as a PCAP file (recording.ts), merged in by time. */
  media?: (id: string) => Promise<Uint8Array | undefined>,
): void {
  ctx.app.get(
    '/api/v1/sbc/calls/:id/pcap',
    {
      preHandler: ctx.requireAdmin,
      schema: {
        summary: "A call's SIP signalling, both legs, as a PCAP file (live or recently ended)",
        description:
          'Every SIP message the SBC received or sent on either leg (the last 200 per leg), with ' +
          'the real addresses and ports of each; LINKTYPE_RAW, every message a UDP datagram ' +
          '(messages of TCP/TLS/WS legs too); with the call’s RTP both ways when it was recorded ' +
          '(POST /api/v1/sbc/calls/{id}/record). application/vnd.tcpdump.pcap.',
        operationId: 'getSbcCallPcap',
        tags: ['sbc'],
        security: [{ admin: [] }],
        params: sbcCallParamsSchema,
        response: {
          400: errorResponseSchema.describe('Not an SBC call id (bad-request).'),
          401: errorResponseSchema.describe('Missing or wrong admin token (unauthorized).'),
          404: errorResponseSchema.describe(
            'No such call, live or among the last ended (not-found).',
          ),
          503: errorResponseSchema.describe('The SBC is not running: no sbc.zones (unavailable).'),
        },
      },
    },
    async (req, reply) => {
      const s = sbc();
      if (!s) throw new TfxError('unavailable', 'the SBC is not running (no sbc.zones)');
      const { id } = req.params as { id: string };
      const signalling = s.callPcap(id);
      if (!signalling)
        throw new TfxError('not-found', `no SBC call ${id} (live or recently ended)`);
      const rtp = await media?.(id);
      const pcap = rtp ? mergePcaps([signalling, rtp]) : signalling;
      return reply
        .type('application/vnd.tcpdump.pcap')
        .header('content-disposition', `attachment; filename="${id}.pcap"`)
        .send(Buffer.from(pcap.buffer, pcap.byteOffset, pcap.byteLength) as never);
    },
  );
}
