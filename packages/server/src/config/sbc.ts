/**
 * The `sbc` section of the configuration (docs/sbc.md): zones, trunks and routes of the Session
 * Border Controller. Kept out of schema.ts for size; schema.ts mounts it as `sbc`. The SBC runs
 * only when `sbc.zones` is not empty.
 */
import { z } from 'zod';
import {
  DEFAULT_ALLOW_HEADERS,
  MAX_ALLOW,
  MAX_ROUTES,
  MAX_RULES,
  MAX_TAGS,
  MAX_TRUNKS,
  MAX_ZONES,
  allowEntryProblem,
  optionTagProblem,
  patternProblem,
  ruleProblem,
  parseCidr,
  RESOURCE_PRIORITY,
  announcementMs,
  type NormalizeRule,
} from '@tfx/sbc';
import { cdrSchema } from './cdr.js';
import {
  checkRouting,
  qualityWindowSchema,
  routeRoutingFields,
  trunkRoutingFields,
} from './sbc-routing.js';
import {
  admissionProblems,
  admissionSchema,
  emergencyReserved,
  qosSchema,
  reserveProblems,
} from './sbc-admission.js';

const name = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'names are a-z, 0-9 and - (1–32)');
const ip = z.union([z.ipv4(), z.ipv6()]);
const WILDCARD = new Set(['0.0.0.0', '::']);

/** `127.0.0.1:9000`, `[::1]:9000`: a UDP delivery point of lawful intercept. */
const HOST_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/;

/** Lawful intercept's delivery (docs/sbc.md, "Lawful intercept"); targets come from the admin REST. */
const intercept = z
  .object({
    udp: z
      .string()
      .regex(HOST_PORT, 'expected ADDRESS:PORT (127.0.0.1:9000, [::1]:9000)')
      .refine((v) => Number(HOST_PORT.exec(v)?.[2]) > 0 && Number(HOST_PORT.exec(v)?.[2]) < 65536, {
        message: 'port 1–65535',
      })
      .optional()
      .describe(
        'UDP mirror: every copied SIP message and RTP packet of an intercepted call as one datagram to ADDRESS:PORT, behind a 17-byte+ TFXL header (docs/sbc.md, "Lawful intercept"). Unset: no mirror.',
      ),
    files: z
      .boolean()
      .default(false)
      .describe(
        'A PCAP file per intercepted call (both legs’ SIP and both media directions) in <dataDir>/li/calls (mode 0600).',
      ),
    mediaAddress: ip
      .default('127.0.0.1')
      .describe(
        'The local address the media engine forwards an intercepted call’s RTP copy to (a socket per call, port chosen by the system).',
      ),
  })
  .strict()
  .default({ files: false, mediaAddress: '127.0.0.1' })
  .describe(
    'Lawful intercept (docs/sbc.md, "Lawful intercept"): where copies of intercepted calls go — udp (a mirror ADDRESS:PORT) and/or files (PCAP per call). Targets (user, number, source CIDR) are managed only through the admin REST /api/v1/sbc/intercept/targets, persisted and audited in <dataDir>/li. Neither udp nor files: targets are kept and audited, nothing is copied.',
  );

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

/** A regular expression of the configuration: linear-time only, at most 256 characters. */
const regex = z.string().superRefine((s, ctx) => {
  const problem = patternProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * A normalization rule (docs/sbc.md, "Normalization"): a user rewrite
 * `{ user: ruri|to|from, match, replace }` or a header rule `{ header, action: add|remove|set|
 * replace, value?, match?, replace? }`. Checked by @tfx/sbc's own compiler, so a rule the SBC
 * would refuse on reload is refused here with the same reason, on the rule's key.
 */
const rule = z
  .object({
    user: z.string().max(16).optional(),
    header: z.string().max(128).optional(),
    action: z.string().max(16).optional(),
    match: z.string().max(1024).optional(),
    replace: z.string().max(4096).optional(),
    value: z.string().max(4096).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const p = ruleProblem(r as NormalizeRule);
    if (p) ctx.addIssue({ code: 'custom', path: p.key ? [p.key] : [], message: p.problem });
  })
  .transform((r) => r as NormalizeRule);

const normalize = z.array(rule).max(MAX_RULES).default([]);

/** The header allow-list of a zone: names or prefixes (`X-*`). */
const allowHeaders = z
  .array(
    z
      .string()
      .max(128)
      .superRefine((e, ctx) => {
        const p = allowEntryProblem(e);
        if (p) ctx.addIssue({ code: 'custom', message: p });
      }),
  )
  .max(MAX_ALLOW);

/** Option tags a far side supports (tokens). */
const optionTags = z
  .array(
    z
      .string()
      .max(64)
      .superRefine((t, ctx) => {
        const p = optionTagProblem(t);
        if (p) ctx.addIssue({ code: 'custom', message: p });
      }),
  )
  .max(MAX_TAGS);

/** An address or CIDR of an ACL (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7`). */
const cidr = z
  .string()
  .max(64)
  .refine(
    (s) => parseCidr(s) !== undefined,
    'expected an IPv4 or IPv6 address or CIDR (10.0.0.0/8)',
  );

/** `zones[].acl` (docs/sbc.md, "ACLs and the blacklist"). */
const acl = z
  .object({
    allow: z.array(cidr).max(1000).optional(),
    deny: z.array(cidr).max(1000).default([]),
  })
  .strict();

/** `zones[].fraud` (docs/sbc.md, "Toll-fraud limits"): every limit 0 / empty = off. */
const fraud = z
  .object({
    maxConcurrent: z.number().int().min(0).max(100_000).default(0),
    callsPerMinute: z.number().int().min(0).max(100_000).default(0),
    deniedDestinations: z.array(regex).max(256).default([]),
    maxDurationSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .default(0),
  })
  .strict();

/** A WAV announcement: readable, a WAV the engine plays, 20 ms to 60 s (tones.ts). */
const announcement = z
  .string()
  .min(1)
  .max(4096)
  .superRefine((path, ctx) => {
    try {
      announcementMs(path);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
    }
  });

const tones = z
  .object({
    ringback: z.boolean().default(false),
    busySeconds: z.number().min(0).max(30).default(0),
    congestionSeconds: z.number().min(0).max(30).default(0),
    announcements: z
      .object({ unknownNumber: announcement.optional(), unreachable: announcement.optional() })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

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
        authFailures: z.number().int().min(0).max(10_000).default(10),
      })
      .strict()
      .prefault({}),
    normalize,
    allowHeaders: allowHeaders.default([...DEFAULT_ALLOW_HEADERS]),
    optionTags: optionTags.optional(),
    refer: z.enum(['refuse', 'execute']).default('refuse'),
    sessionTimer: z
      .object({
        enabled: z.boolean().default(true),
        expires: z.number().int().min(90).max(86_400).default(1800),
        // RFC 4028 §4: "MUST NOT be less than 90 seconds".
        minSE: z.number().int().min(90).max(86_400).default(90),
        refresh: z.enum(['UPDATE', 'INVITE']).default('UPDATE'),
      })
      .strict()
      .prefault({})
      .refine((t) => t.expires >= t.minSE, {
        message: 'sessionTimer.expires is below its own minSE',
        path: ['expires'],
      }),
    acl: acl.optional(),
    fraud: fraud.optional(),
    registrar: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe(
        'An inner registrar for this zone’s REGISTERs: a trunk name, or a SIP URI (sip:IP[:PORT][;transport=tcp]) reached through the first trusted zone. Unset: TFX’s own registrar.',
      ),
    registration: z
      .object({
        expires: z.number().int().min(10).max(86_400).default(600),
        minExpires: z.number().int().min(1).max(86_400).default(60),
        keepAlive: z
          .object({
            method: z.enum(['options', 'crlf']).default('options'),
            intervalSeconds: z.number().int().min(0).max(3600).default(30),
          })
          .strict()
          .prefault({}),
        timeoutSeconds: z.number().min(1).max(60).default(10),
      })
      .strict()
      .prefault({}),
    tones,
  })
  .strict();

/** A SIP user part (RFC 3261 §25.1 unreserved and user-unreserved; no escapes needed). */
const sipUser = z
  .string()
  .regex(
    /^[A-Za-z0-9\-_.!~*'()&=+$,;?/]{1,64}$/,
    'expected a SIP user (1–64 characters, no @ or spaces)',
  );

/** `trunks[].register` (docs/sbc.md, "Upstream registration and per-trunk codecs"). */
const upstreamRegister = z
  .object({
    user: sipUser,
    password: z.string().min(1).max(256).optional(),
    passwordEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'expected an environment variable name')
      .optional(),
    realm: z
      .string()
      .regex(
        /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.?)*|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?$/,
        'expected the carrier’s SIP domain (host[:port])',
      )
      .max(253)
      .optional(),
    expiresSeconds: z.number().int().min(10).max(86400).default(600),
    contactUser: sipUser.optional(),
    retrySeconds: z.number().int().min(5).max(600).default(30),
  })
  .strict()
  .refine((r) => (r.password === undefined) !== (r.passwordEnv === undefined), {
    message: 'give exactly one of password and passwordEnv',
  });

const codecName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9.+_-]{0,31}$/,
    'expected a codec name as in a=rtpmap (PCMA, opus, telephone-event)',
  );

/** `trunks[].codecs`: the codecs allowed in the SDP toward the trunk (codec-policy.ts). */
const codecPolicy = z
  .object({
    allow: z.array(codecName).min(1).max(32),
    order: z.array(codecName).max(32).optional(),
  })
  .strict()
  .refine(
    (c) => (c.order ?? []).every((o) => c.allow.some((a) => a.toLowerCase() === o.toLowerCase())),
    { message: 'codecs.order names only allowed codecs' },
  );

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
    optionTags: optionTags.optional(),
    timeoutSeconds: z.number().min(0).max(300).default(5),
    probe: z
      .object({
        // Off until configured (like Kamailio's dispatcher without its probing flag): a trunk
        // that answers no OPTIONS (a sipp UAS, some carriers) is not taken down by surprise.
        intervalSeconds: z.number().int().min(0).max(3600).default(0),
        failures: z.number().int().min(1).max(100).default(3),
        successes: z.number().int().min(1).max(100).default(2),
      })
      .strict()
      .prefault({}),
    ...trunkRoutingFields,
    register: upstreamRegister.optional(),
    codecs: codecPolicy.optional(),
    dtmf: z.enum(['rfc4733', 'info']).default('rfc4733'),
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
    to: z.array(name).default([]),
    ...routeRoutingFields,
  })
  .strict();

export const sbcSchema = z
  .object({
    cdr: cdrSchema,
    zones: z
      .array(zone)
      .max(MAX_ZONES)
      .default([])
      .describe(
        'SBC zones (docs/sbc.md). Each: name, listen (udp://, tcp://, tls:// URLs on the zone’s own address), media.address (media sockets toward the zone bind it; never the wildcard), media.advertisedAddress, trusted (default false), webrtc (default false: true puts the platform’s WebSocket /sip in this zone; one zone at most), anchorMedia (auto (default): calls between users of TFX’s own registrar whose media can meet pass with their SDP untouched; always: anchored in the media engine), limits.maxCalls (0 = none), security (untrusted zones: floodRequests 400 per floodWindowSeconds 2 from one address bans it for banSeconds 600; maxBytes 8192; authFailures 10 failed digests of one user from one source ban that pair, 5× that from one source ban the source onto the blacklist — 0 never), acl ({ allow?: [cidr…], deny: [cidr…] }, every zone, trusted too: deny wins, an allow list lets only it in; others dropped silently), fraud (per account: maxConcurrent → 486, callsPerMinute → 503 + Retry-After, deniedDestinations [regex on the normalized Request-URI user] → 403, maxDurationSeconds → BYE both legs; 0/empty = off), normalize (rules as calls enter, before routing: { user: ruri|to|from, match, replace } rewrites a user, { header, action: add|remove|set|replace, value?, match?, replace? } the far leg’s header fields), allowHeaders (header fields of INVITEs entering through the zone that cross to the other leg: names or prefixes like X-*; default Subject, Priority, Accept-Language), optionTags (option tags the zone’s far ends support; others are stripped from Supported/Require/Proxy-Require toward it; default: none stripped), refer (an in-dialog REFER from the zone: refuse (default, 403) or execute (the SBC places the new call through the zone’s routes and bridges it)), sessionTimer (RFC 4028 per leg: enabled true, expires 1800, minSE 90 (the RFC’s floor), refresh UPDATE|INVITE). registrar (an inner registrar for the zone’s REGISTERs: a trunk name or sip:IP[:PORT][;transport=tcp]; unset: TFX’s own registrar), registration (expires 600, minExpires 60, keepAlive { method options|crlf, intervalSeconds 30 }, timeoutSeconds 10), tones (toward callers entering through the zone, over early media: ringback false (on a 180 without SDP), busySeconds 0 before 486/600, congestionSeconds 0 before 503/504 (≤ 30 s), announcements { unknownNumber (404/484), unreachable (480/408) }: WAV files played once, checked at load — missing or not a playable WAV is a config error). Empty: no SBC. Rules, trunks and routes are reloaded live (tfx sbc reload, SIGHUP, POST /api/v1/sbc/reload); zones need a restart.',
      ),
    trunks: z
      .array(trunk)
      .max(MAX_TRUNKS)
      .default([])
      .describe(
        'SBC trunks: { name, zone, uri, normalize?, optionTags?, probe?, timeoutSeconds?, priority?, weight?, register?, codecs?, dtmf? } — calls to a trunk leave through its zone toward uri (sip:IP[:PORT][;transport=tcp]); normalize rules apply as they leave (after the zone rules); optionTags: the option tags the trunk supports (instead of its zone’s); probe: OPTIONS probes { intervalSeconds 0 (off, the default; e.g. 30), failures 3 in a row take it down, successes 2 bring it back } — any final answer but 408/503 counts as up; a down trunk is skipped by routes (every trunk down or failing → 504); timeoutSeconds (5; 0 = the transaction’s own 32 s): no response at all from the trunk in that time → CANCEL and the next trunk; register: TFX registers to the trunk as to a carrier { user, password or passwordEnv (an environment variable holding it), realm (the carrier’s domain: AOR sip:user@realm; default the trunk URI’s host:port), expiresSeconds 600, contactUser (default user: calls from the carrier to it arrive in the trunk’s zone), retrySeconds 30 (first wait after a failure, doubled up to 600) } — digest answered, refreshed before expiry, Expires: 0 on shutdown or when a reload removes it; codecs: { allow: [PCMA, telephone-event, …], order?: [...] } — only these codecs in the SDP sent toward the trunk (offer and answer), preferred first; none left → the next trunk, or 488; priority (lower tried first, unset 0) and weight (trunks of one priority in a weighted random order, Kamailio dispatcher alg 9; none weighted: the route’s order).; dtmf (rfc4733 (default): RFC 4733 events in RTP; info: SIP INFO application/dtmf-relay, converted to and from RFC 4733 on the other leg).',
      ),
    routes: z
      .array(route)
      .max(MAX_ROUTES)
      .default([])
      .describe(
        'SBC routes, first match wins: { match: { zone, user? (regex on the Request-URI user) }, to: [trunk, …] or rates: [{ prefix, costs: { trunk: cost }, when? }], policy?: order|cost|quality|cost-quality, timezone?, quality?: { minMos, minAsr, minCalls } } — trunks tried in that order while they fail (408, 5xx, timeout, transport error) before any provisional response; none left: 504 (docs/sbc.md, "Routing on cost and quality").',
      ),
    quality: qualityWindowSchema,
    emergency: z
      .object({
        numbers: z
          .array(z.string().regex(/^[0-9*#+]{1,32}$/, 'digits, *, # or +'))
          .max(32)
          .default([])
          .describe(
            'Emergency numbers (docs/sbc.md, "Emergency calls"), matched exactly on the Request-URI user after the zone’s normalize rules; such a call is never refused by limits.maxCalls, fraud limits or the digest of an untrusted zone (placed unauthenticated, as regulators require). Empty: off.',
          ),
        trunks: z
          .array(name)
          .max(MAX_TRUNKS)
          .default([])
          .describe('The emergency trunks, tried in this order instead of the routes.'),
        resourcePriority: z
          .string()
          .regex(RESOURCE_PRIORITY, 'an RFC 4412 r-value: namespace.priority (esnet.1)')
          .optional()
          .describe(
            'RFC 4412 Resource-Priority value (e.g. esnet.1) added to an emergency call’s outgoing INVITE; unset: none.',
          ),
        reserved: emergencyReserved,
      })
      .strict()
      .default({ numbers: [], trunks: [], reserved: 0 })
      .describe(
        'Emergency calls (docs/sbc.md, "Emergency calls"): { numbers: ["112", "911", …] matched exactly on the normalized Request-URI user; trunks: [trunk, …] tried in this order instead of the routes; resourcePriority?: RFC 4412 value (esnet.1) added to the outgoing INVITE }. An emergency call is never refused by a zone’s limits.maxCalls, its fraud limits or the digest of an untrusted zone (placed unauthenticated, as regulators require). Empty numbers: off.',
      ),
    intercept: intercept,
    // Admission control and QoS (sbc-admission.ts).
    admission: admissionSchema,
    qos: qosSchema,
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
      if (z.registrar !== undefined && !z.registrar.startsWith('sip:')) {
        // A trunk name: checked once the trunks are known (below).
      } else if (
        z.registrar !== undefined &&
        !/^sip:(?:[^@\s]+@)?(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?(?:;[^\s]*)?$/.test(
          z.registrar,
        )
      )
        ctx.addIssue({
          code: 'custom',
          path: ['zones', i, 'registrar'],
          message: 'expected a trunk name or sip:ADDRESS[:PORT][;transport=tcp] with an IP address',
        });
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
    s.zones.forEach((z, i) => {
      if (z.registrar === undefined) return;
      const t = s.trunks.find((x) => x.name === z.registrar);
      if (!z.registrar.startsWith('sip:') && !t)
        ctx.addIssue({
          code: 'custom',
          path: ['zones', i, 'registrar'],
          message: `no trunk named ${z.registrar}`,
        });
      const via = t ? t.zone : s.zones.find((x) => x.trusted && x.name !== z.name)?.name;
      if (z.registrar.startsWith('sip:') && via === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['zones', i, 'registrar'],
          message:
            'a SIP URI registrar leaves through a trusted zone: there is none (name a trunk)',
        });
      if (via === z.name)
        ctx.addIssue({
          code: 'custom',
          path: ['zones', i, 'registrar'],
          message: 'the inner registrar must be reached through another zone',
        });
    });
    if (s.emergency.numbers.length > 0 && s.emergency.trunks.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['emergency', 'trunks'],
        message: 'emergency numbers need at least one emergency trunk',
      });
    s.emergency.trunks.forEach((t, j) => {
      if (!trunks.has(t))
        ctx.addIssue({
          code: 'custom',
          path: ['emergency', 'trunks', j],
          message: `no trunk named ${t}`,
        });
    });
    checkRouting(s.routes, trunks, ctx);
    for (const p of [
      ...admissionProblems(s.admission, zones, trunks),
      ...reserveProblems(s.admission, s.emergency.reserved),
    ])
      ctx.addIssue({ code: 'custom', ...p });
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
