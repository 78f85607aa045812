/**
 * The `sbc` section of the configuration (docs/sbc.md): zones, trunks and routes of the Session
 * Border Controller. Kept out of schema.ts for size; schema.ts mounts it as `sbc`. The SBC runs
 * only when `sbc.zones` is not empty.
 */
import { z } from 'zod';

const name = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'names are a-z, 0-9 and - (1–32)');
const ip = z.union([z.ipv4(), z.ipv6()]);
const WILDCARD = new Set(['0.0.0.0', '::']);

/** `udp://127.0.0.20:5080`, `tcp://[::1]:5080`, `tls://…` (port 0: any free port). */
export const LISTEN_URL =
  /^(udp|tcp|tls):\/\/(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/;

export interface SbcListen {
  readonly transport: 'udp' | 'tcp' | 'tls';
  readonly address: string;
  readonly port: number;
}

/** Reads a listen URL the schema accepted. */
export function parseListenUrl(url: string): SbcListen {
  const m = LISTEN_URL.exec(url);
  if (!m) throw new TypeError(`not a listen URL: ${url}`);
  return {
    transport: m[1] as SbcListen['transport'],
    address: (m[2] as string).replace(/^\[|\]$/g, ''),
    port: Number(m[3]),
  };
}

const regex = z
  .string()
  .max(256)
  .refine((s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  }, 'not a valid regular expression');

/** A user rewrite (docs/sbc.md, "Normalization"): `{ user: ruri, match: "^00", replace: "+" }`. */
const normalize = z
  .array(
    z
      .object({
        user: z.enum(['ruri', 'from']),
        match: regex,
        replace: z.string().max(256),
      })
      .strict(),
  )
  .max(64)
  .default([]);

const zone = z
  .object({
    name,
    listen: z
      .array(
        z
          .string()
          .regex(LISTEN_URL, 'expected udp://ADDRESS:PORT, tcp://… or tls://… ([v6] for IPv6)'),
      )
      .min(1, 'a zone listens somewhere'),
    media: z
      .object({
        address: ip,
        advertisedAddress: ip.optional(),
      })
      .strict(),
    trusted: z.boolean().default(false),
    webrtc: z.boolean().default(false),
    anchorMedia: z.enum(['auto', 'always']).default('auto'),
    limits: z
      .object({ maxCalls: z.number().int().min(0).max(1_000_000).default(0) })
      .strict()
      .prefault({}),
    security: z
      .object({
        floodRequests: z.number().int().min(1).max(1_000_000).default(400),
        floodWindowSeconds: z.number().min(0.1).max(3600).default(2),
        banSeconds: z
          .number()
          .int()
          .min(1)
          .max(30 * 86_400)
          .default(600),
        maxBytes: z.number().int().min(1024).max(65_535).default(8192),
      })
      .strict()
      .prefault({}),
    normalize,
  })
  .strict();

const trunk = z
  .object({
    name,
    zone: name,
    uri: z
      .string()
      .regex(
        /^sip:(?:[^@\s]+@)?(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?(?:;[^\s]*)?$/,
        'expected sip:ADDRESS[:PORT][;transport=tcp] with an IP address (no DNS for trunks yet)',
      ),
    normalize,
  })
  .strict();

const route = z
  .object({
    match: z
      .object({
        zone: name,
        user: regex.optional(),
      })
      .strict(),
    to: z.array(name).min(1, 'a route names at least one trunk'),
  })
  .strict();

export const sbcSchema = z
  .object({
    zones: z
      .array(zone)
      .default([])
      .describe(
        'SBC zones (docs/sbc.md). Each: name, listen (udp://, tcp://, tls:// URLs on the zone’s own address), media.address (media sockets toward the zone bind it; never the wildcard), media.advertisedAddress, trusted (default false), webrtc (default false: true puts the platform’s WebSocket /sip in this zone; one zone at most), anchorMedia (auto (default): calls between users of TFX’s own registrar whose media can meet pass with their SDP untouched; always: anchored in the media engine), limits.maxCalls (0 = none), security (untrusted zones: floodRequests 400 per floodWindowSeconds 2 from one address bans it for banSeconds 600; maxBytes 8192), normalize (user rewrites before routing: [{ user: ruri|from, match: regex, replace }]). Empty: no SBC.',
      ),
    trunks: z
      .array(trunk)
      .default([])
      .describe(
        'SBC trunks: { name, zone, uri, normalize? } — calls to a trunk leave through its zone toward uri (sip:IP[:PORT][;transport=tcp]); normalize rewrites users as they leave (after the zone rules).',
      ),
    routes: z
      .array(route)
      .default([])
      .describe(
        'SBC routes, first match wins: { match: { zone, user? (regex on the Request-URI user) }, to: [trunk, …] } — trunks tried in order while they fail before any provisional response.',
      ),
  })
  .strict()
  .superRefine((s, ctx) => {
    const zones = new Set<string>();
    const webrtc = s.zones.flatMap((z, i) => (z.webrtc ? [i] : []));
    if (webrtc.length > 1)
      ctx.addIssue({
        code: 'custom',
        path: ['zones', webrtc[1] as number, 'webrtc'],
        message: 'one zone at most is webrtc: it carries the platform’s /sip',
      });
    s.zones.forEach((z, i) => {
      if (zones.has(z.name))
        ctx.addIssue({
          code: 'custom',
          path: ['zones', i, 'name'],
          message: `zone ${z.name} named twice`,
        });
      zones.add(z.name);
      if (WILDCARD.has(z.media.address))
        ctx.addIssue({
          code: 'custom',
          path: ['zones', i, 'media', 'address'],
          message: 'media sockets bind the zone’s own address, never the wildcard',
        });
      z.listen.forEach((l, j) => {
        const p = LISTEN_URL.exec(l);
        const addr = (p?.[2] ?? '').replace(/^\[|\]$/g, '');
        if (WILDCARD.has(addr))
          ctx.addIssue({
            code: 'custom',
            path: ['zones', i, 'listen', j],
            message: 'a zone listens on its own address, never the wildcard',
          });
        if (Number(p?.[3]) > 65535)
          ctx.addIssue({
            code: 'custom',
            path: ['zones', i, 'listen', j],
            message: 'port over 65535',
          });
      });
    });
    const trunks = new Set<string>();
    s.trunks.forEach((t, i) => {
      if (trunks.has(t.name))
        ctx.addIssue({
          code: 'custom',
          path: ['trunks', i, 'name'],
          message: `trunk ${t.name} named twice`,
        });
      trunks.add(t.name);
      if (!zones.has(t.zone))
        ctx.addIssue({
          code: 'custom',
          path: ['trunks', i, 'zone'],
          message: `no zone named ${t.zone}`,
        });
    });
    s.routes.forEach((r, i) => {
      if (!zones.has(r.match.zone))
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i, 'match', 'zone'],
          message: `no zone named ${r.match.zone}`,
        });
      r.to.forEach((t, j) => {
        if (!trunks.has(t))
          ctx.addIssue({
            code: 'custom',
            path: ['routes', i, 'to', j],
            message: `no trunk named ${t}`,
          });
      });
    });
  });
