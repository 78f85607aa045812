/**
 * Recording an SBC call's media for its PCAP (docs/sbc.md, "Per-call PCAP"):
 * `POST /api/v1/sbc/calls/{id}/record` `{ "on": true }` (admin) has the media engine write the
 * call's RTP both ways to `<dataDir>/sbc/recordings/<id>.pcap` (engine `record`, format pcap);
 * `GET /api/v1/sbc/calls/{id}/pcap` then merges it with the signalling (by time).
 *
 * Bounded: the recordings of the last MAX_RECORDINGS calls are kept (older files are removed);
 * a recording larger than MAX_READ_BYTES is read only up to it.
 */
import { mkdirSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  TfxError,
  errorResponseSchema,
  sbcCallParamsSchema,
  sbcCallRecordSchema,
} from '@tfx/protocol';
import type { MediaEngine } from '@tfx/media';
import type { Sbc } from '@tfx/sbc';
import { z } from 'zod';
import type { PlatformContext } from '../module.js';

export const MAX_RECORDINGS = 500;
export const MAX_READ_BYTES = 64 * 1024 * 1024;

export class CallRecordings {
  /** SBC call id → its recording (Map order: oldest first). */
  readonly #files = new Map<string, string>();
  constructor(readonly dir: string) {}

  /** Where a call's recording goes (kept, the oldest beyond the bound removed). */
  pathFor(id: string): string {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const path = join(this.dir, `${id}.pcap`);
    this.#files.delete(id);
    this.#files.set(id, path);
    while (this.#files.size > MAX_RECORDINGS) {
      const [oldest, file] = this.#files.entries().next().value as [string, string];
      this.#files.delete(oldest);
      void unlink(file).catch(() => undefined);
    }
    return path;
  }

  /** A call's recorded RTP as a PCAP file (what is written so far), if it was recorded. */
  async media(id: string): Promise<Uint8Array | undefined> {
    const path = this.#files.get(id);
    if (!path) return undefined;
    let fh;
    try {
      fh = await open(path, 'r');
    } catch {
      return undefined;
    }
    try {
      const size = Math.min((await fh.stat()).size, MAX_READ_BYTES);
      const buf = Buffer.alloc(size);
      const { bytesRead } = await fh.read(buf, 0, size, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }
}

export function registerRecordRoutes(
  ctx: PlatformContext,
  sbc: () => Sbc | undefined,
  engine: () => MediaEngine | undefined,
  recordings: CallRecordings,
): void {
  ctx.app.post(
    '/api/v1/sbc/calls/:id/record',
    {
      preHandler: ctx.requireAdmin,
      schema: {
        summary: "Start or stop recording a live call's RTP (into its PCAP)",
        description:
          'The media engine writes both directions of the call’s RTP to a PCAP file; ' +
          'GET /api/v1/sbc/calls/{id}/pcap then includes it with the SIP of both legs.',
        operationId: 'recordSbcCall',
        tags: ['sbc'],
        security: [{ admin: [] }],
        params: sbcCallParamsSchema,
        body: sbcCallRecordSchema,
        response: {
          204: z.null().describe('Recording started (or stopped).'),
          400: errorResponseSchema.describe('Not an SBC call id, or a bad body (bad-request).'),
          401: errorResponseSchema.describe('Missing or wrong admin token (unauthorized).'),
          404: errorResponseSchema.describe('No such live call (not-found).'),
          501: errorResponseSchema.describe('The engine cannot record PCAP (media-unsupported).'),
          503: errorResponseSchema.describe('The SBC is not running (unavailable).'),
        },
      },
    },
    async (req, reply) => {
      const s = sbc();
      const e = engine();
      if (!s || !e) throw new TfxError('unavailable', 'the SBC is not running (no sbc.zones)');
      const { id } = req.params as { id: string };
      const { on } = req.body as { on: boolean };
      const call = s.calls().find((c) => c.id === id);
      if (!call) throw new TfxError('not-found', `no live SBC call ${id}`);
      if (!e.capabilities.record.includes('pcap'))
        throw new TfxError('media-unsupported', `the ${e.kind} engine does not record PCAP`);
      await e.record({ callId: call.media }, on, {
        format: 'pcap',
        path: on ? recordings.pathFor(id) : join(recordings.dir, `${id}.pcap`),
      });
      return reply.code(204).send(null);
    },
  );
}
