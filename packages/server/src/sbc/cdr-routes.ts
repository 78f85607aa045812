/** `GET /api/v1/sbc/cdrs` (admin): the CDR files of a range, filtered, streamed as JSON or CSV. */
import { Readable } from 'node:stream';
import {
  TfxError,
  errorResponseSchema,
  sbcCdrListSchema,
  sbcCdrQuerySchema,
  type SbcCdrQuery,
} from '@tfx/protocol';
import type { PlatformContext } from '../module.js';
import { CSV_COLUMNS, cdrRange, csvRow, readCdrs, type CdrReadStats } from './cdr.js';

/** The response body, produced as the files are read (`stats`: see readCdrs). */
export async function* cdrBody(
  dir: string,
  q: SbcCdrQuery,
  range: { from: number; to: number },
  stats: CdrReadStats = { bad: 0, lines: 0 },
): AsyncGenerator<string> {
  if (q.format === 'csv') {
    yield CSV_COLUMNS.join(',') + '\r\n';
    for await (const r of readCdrs(dir, q, range, stats)) yield csvRow(r);
    return;
  }
  yield '{"cdrs":[';
  let first = true;
  for await (const r of readCdrs(dir, q, range, stats)) {
    yield (first ? '' : ',') + JSON.stringify(r);
    first = false;
  }
  yield ']}';
}

export function registerCdrRoutes(ctx: PlatformContext, dir: () => string): void {
  ctx.app.get(
    '/api/v1/sbc/cdrs',
    {
      preHandler: ctx.requireAdmin,
      schema: {
        summary: 'SBC call detail records of a range (at most 31 days), filtered; JSON or CSV',
        operationId: 'listSbcCdrs',
        tags: ['sbc'],
        security: [{ admin: [] }],
        querystring: sbcCdrQuerySchema,
        response: {
          200: sbcCdrListSchema.describe('format=json; format=csv gives text/csv (a header row).'),
          400: errorResponseSchema.describe('Bad query: a bad time, from after to, over 31 days.'),
          401: errorResponseSchema.describe('Missing or wrong admin token (unauthorized).'),
        },
      },
    },
    async (req, reply) => {
      const q = req.query as SbcCdrQuery;
      const range = cdrRange(q, Date.now());
      if (typeof range === 'string') throw new TfxError('bad-request', range);
      const stream = Readable.from(cdrBody(dir(), q, range));
      return reply
        .type(q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
        .send(stream as never);
    },
  );
}
