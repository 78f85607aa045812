/**
 * `GET /api/v1/sbc/calls/{id}/pcap` (admin): both legs' SIP signalling of a live or recently
 * ended SBC call as a PCAP file (signals.ts in @tfx/sbc keeps it, bounded), for Wireshark/tshark.
 */
import { TfxError, errorResponseSchema, sbcCallParamsSchema } from '@tfx/protocol';
import type { Sbc } from '@tfx/sbc';
import type { PlatformContext } from '../module.js';

export function registerPcapRoutes(ctx: PlatformContext, sbc: () => Sbc | undefined): void {
  ctx.app.get(
    '/api/v1/sbc/calls/:id/pcap',
    {
      preHandler: ctx.requireAdmin,
      schema: {
        summary: "A call's SIP signalling, both legs, as a PCAP file (live or recently ended)",
        description:
          'Every SIP message the SBC received or sent on either leg (the last 200 per leg), with ' +
          'the real addresses and ports of each; LINKTYPE_RAW, every message a UDP datagram ' +
          '(messages of TCP/TLS/WS legs too). application/vnd.tcpdump.pcap.',
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
      const pcap = s.callPcap(id);
      if (!pcap) throw new TfxError('not-found', `no SBC call ${id} (live or recently ended)`);
      return reply
        .type('application/vnd.tcpdump.pcap')
        .header('content-disposition', `attachment; filename="${id}.pcap"`)
        .send(Buffer.from(pcap.buffer, pcap.byteOffset, pcap.byteLength) as never);
    },
  );
}
