/**
 * The configuration schema: the single source of truth for every option of TFX.
 *
 * A key `a.bC` is set, from highest precedence to lowest, by the flag `--a-b-c`, the environment
 * variable `TFX_A_B_C`, the YAML file given with `--config`, or the default written here.
 * `docs/configuration.md` is generated from this file (`npm run docs:config`) and a test fails when
 * it drifts. Every option documents its default where it is declared — here.
 *
 * Later features add their sections here; nothing else in the code base defines an option.
 */
import { z } from 'zod';
import { sbcSchema } from './sbc.js';

const port = z.number().int().min(0).max(65535);
const cidr = z
  .string()
  .regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, 'expected an IP address or CIDR such as 10.0.0.0/8');
const origin = z
  .string()
  .regex(/^https?:\/\/[^/\s]+$/, 'expected an origin such as https://example.com (no path)');

export const configSchema = z
  .object({
    dataDir: z
      .string()
      .min(1)
      .default('./.tfx')
      .describe(
        'Folder for state kept across restarts: the self-signed certificate, the admin token, ended sessions, CDRs, overrides.',
      ),

    server: z
      .object({
        host: z
          .string()
          .min(1)
          .default('0.0.0.0')
          .describe(
            'Address the HTTPS server (and SIP) listens on. Use 127.0.0.1 to stay local, :: for IPv6.',
          ),
        port: port
          .default(8443)
          .describe(
            'HTTPS port of the web app, signalling, REST API and SIP over WebSocket. 0 picks a free port.',
          ),
        publicUrl: z
          .url()
          .optional()
          .describe(
            'Public base URL used in links (room URLs). Default: derived from the host and port the server listens on.',
          ),
        insecureHttp: z
          .boolean()
          .default(false)
          .describe(
            'Serve plain HTTP instead of HTTPS. Allowed only on a loopback host or when server.trustProxy is set (TLS terminated by a proxy).',
          ),
        trustProxy: z
          .array(cidr)
          .default([])
          .describe(
            'Proxies (IP or CIDR) whose X-Forwarded-For / X-Forwarded-Proto headers are trusted.',
          ),
        allowedOrigins: z
          .array(origin)
          .default([])
          .describe(
            "Extra page origins allowed to open signalling connections and call the API from a browser. The server's own origin is always allowed.",
          ),
        shutdownGraceMs: z
          .number()
          .int()
          .min(0)
          .max(600_000)
          .default(10_000)
          .describe('On SIGTERM: how long to wait for connections to drain before closing them.'),
      })
      .strict()
      .prefault({}),

    tls: z
      .object({
        cert: z
          .string()
          .optional()
          .describe(
            'PEM certificate file (chain) for HTTPS, SIP TLS and WSS. Default: a self-signed certificate made on first start in <dataDir>/tls/.',
          ),
        key: z.string().optional().describe('PEM private key file matching tls.cert.'),
      })
      .strict()
      .prefault({}),

    admin: z
      .object({
        token: z
          .string()
          .min(16, 'the admin token must be at least 16 characters')
          .optional()
          .describe(
            'Bearer token for the REST API, metrics and the admin console. Default: generated once, saved (mode 0600) in <dataDir>/admin-token and printed once.',
          ),
      })
      .strict()
      .prefault({}),

    log: z
      .object({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default('info')
          .describe('Lowest level written; see docs/logging.md for what each level means.'),
        format: z
          .enum(['auto', 'json', 'pretty'])
          .default('auto')
          .describe(
            'json for machines, pretty for people; auto picks pretty when stdout is a terminal.',
          ),
      })
      .strict()
      .prefault({}),

    signalling: z
      .object({
        polling: z
          .boolean()
          .default(false)
          .describe(
            'Also allow HTTP long-polling (needs sticky sessions behind a load balancer). Default: WebSocket only.',
          ),
        roomCapacity: z
          .number()
          .int()
          .min(2)
          .max(100)
          .default(6)
          .describe('Most peers in one room.'),
        resumeGraceMs: z
          .number()
          .int()
          .min(0)
          .max(600_000)
          .default(20_000)
          .describe(
            'How long a disconnected peer keeps its place (peer id, room) and may resume without its peers seeing it leave.',
          ),
        maxMessageBytes: z
          .number()
          .int()
          .min(1024)
          .max(16 * 1024 * 1024)
          .default(65_536)
          .describe(
            'Largest signalling message (socket.io packet) accepted; larger ones close the connection.',
          ),
        eventsPerSecond: z
          .number()
          .int()
          .min(1)
          .default(50)
          .describe(
            'Sustained events per second allowed per connection (burst of twice that); beyond it events are refused and, if it goes on, the connection is closed.',
          ),
        connectionsPerIp: z
          .number()
          .int()
          .min(1)
          .default(50)
          .describe('Most simultaneous signalling connections from one IP address.'),
        joinsPerIpPerMinute: z
          .number()
          .int()
          .min(1)
          .default(120)
          .describe('Most room joins per IP address per minute.'),
        presenceQueriesPerMinute: z
          .number()
          .int()
          .min(1)
          .default(30)
          .describe(
            'Most presence queries (does a room exist, how many are in it) per connection per minute.',
          ),
      })
      .strict()
      .prefault({}),

    sessions: z
      .object({
        retentionDays: z
          .number()
          .min(0)
          .max(3650)
          .default(30)
          .describe('How long ended sessions are kept.'),
        maxEnded: z
          .number()
          .int()
          .min(0)
          .default(100_000)
          .describe('Most ended sessions kept (oldest dropped first).'),
      })
      .strict()
      .prefault({}),

    turn: z
      .object({
        secret: z
          .string()
          .min(8)
          .optional()
          .describe(
            'Shared secret with coturn (use-auth-secret / static-auth-secret) for minting time-limited TURN credentials.',
          ),
        urls: z
          .array(
            z
              .string()
              .regex(/^(stun|stuns|turn|turns):/, 'expected a stun:, stuns:, turn: or turns: URL'),
          )
          .default([])
          .describe(
            'STUN/TURN URLs handed to browsers, e.g. turn:turn.example.com:3478?transport=udp.',
          ),
        ttl: z
          .number()
          .int()
          .min(60)
          .max(7 * 86_400)
          .default(86_400)
          .describe('Lifetime of minted TURN credentials, in seconds.'),
        stun: z
          .object({
            enabled: z
              .boolean()
              .default(false)
              .describe('Run the built-in STUN responder (binding requests only, no relay).'),
            port: port.default(3478).describe('UDP port of the built-in STUN responder.'),
            host: z
              .string()
              .min(1)
              .optional()
              .describe('Address the built-in STUN responder listens on. Default: server.host.'),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),

    metrics: z
      .object({
        public: z.boolean().default(false).describe('Serve /metrics without the admin token.'),
      })
      .strict()
      .prefault({}),

    embed: z
      .object({
        allowedOrigins: z
          .array(origin)
          .default([])
          .describe(
            'Origins allowed to embed the call page in an iframe (CSP frame-ancestors) and to command it over postMessage.',
          ),
      })
      .strict()
      .prefault({}),

    redis: z
      .object({
        url: z
          .string()
          .regex(/^rediss?:\/\//, 'expected redis://host:port or rediss://…')
          .optional()
          .describe(
            'Redis for shared state across several TFX processes. Default: none (state in memory). With Redis, admin.token must be set (the same on every process).',
          ),
        keyPrefix: z
          .string()
          .regex(/^[A-Za-z0-9:_-]{1,32}$/, '1–32 of A–Z a–z 0–9 : _ -')
          .default('tfx:')
          .describe(
            'Prefix of every Redis key TFX writes (deployments sharing one Redis use distinct prefixes).',
          ),
        commandTimeoutMs: z
          .number()
          .int()
          .min(100)
          .max(60_000)
          .default(2000)
          .describe(
            'A Redis command unanswered this long fails; the join that needed it gets a retryable unavailable error.',
          ),
      })
      .strict()
      .prefault({}),

    cluster: z
      .object({
        nodeId: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,64}$/, '1–64 of A–Z a–z 0–9 _ -')
          .optional()
          .describe(
            "This process's node id in the cluster (with redis.url). Default: random at each start.",
          ),
        heartbeatMs: z
          .number()
          .int()
          .min(100)
          .max(60_000)
          .default(1000)
          .describe('How often a node refreshes its alive key in Redis (and checks Redis health).'),
        nodeTtlMs: z
          .number()
          .int()
          .min(500)
          .max(600_000)
          .default(5000)
          .describe(
            'A node whose alive key is this old is dead: a survivor removes its peers that did not resume elsewhere within the resume grace.',
          ),
        maxPending: z
          .number()
          .int()
          .min(100)
          .max(10_000_000)
          .default(200_000)
          .describe(
            'Messages for other nodes handed to Redis and not yet acknowledged; beyond it senders get unavailable (counted), never a silent drop.',
          ),
        maxStreamLength: z
          .number()
          .int()
          .min(1000)
          .max(100_000_000)
          .default(1_000_000)
          .describe(
            'Cap on each node stream in Redis (a safety net far above the normal backlog).',
          ),
        protocolVersion: z
          .number()
          .int()
          .min(1)
          .optional()
          .describe(
            "Signalling protocol version this process speaks. Default: the build's. Only for testing rolling upgrades.",
          ),
        minProtocolVersion: z
          .number()
          .int()
          .min(1)
          .optional()
          .describe(
            "Oldest client protocol version this process serves. Default: the build's. Only for testing rolling upgrades.",
          ),
      })
      .strict()
      .prefault({}),

    sip: z
      .object({
        enabled: z.boolean().default(true).describe('Run the SIP server (--no-sip turns it off).'),
        port: port
          .default(5060)
          .describe(
            'SIP UDP and TCP port (the same number for both). 0 picks one free number for both.',
          ),
        tlsPort: port.default(5061).describe('SIP over TLS port, with the platform certificate.'),
        domain: z
          .string()
          .optional()
          .describe("SIP domain served by the registrar. Default: the platform's public host."),
        users: z
          .array(
            z
              .object({
                username: z
                  .string()
                  .regex(/^[A-Za-z0-9._~+-]{1,64}$/, 'usernames are 1–64 of A–Z a–z 0–9 . _ ~ + -'),
                password: z.string().min(8, 'SIP passwords must be at least 8 characters'),
              })
              .strict(),
          )
          .default([])
          .describe('SIP users allowed to register (more can be added from the admin API).'),
        minExpires: z
          .number()
          .int()
          .min(1)
          .max(86_400)
          .default(60)
          .describe(
            'Shortest registration accepted, in seconds; shorter ones get 423 Interval Too Brief.',
          ),
        maxExpires: z
          .number()
          .int()
          .min(1)
          .max(604_800)
          .default(3600)
          .describe('Longest registration granted, in seconds (longer ones are shortened).'),
        defaultExpires: z
          .number()
          .int()
          .min(1)
          .max(604_800)
          .default(3600)
          .describe('Registration lifetime when a REGISTER gives none, in seconds.'),
        serverHeader: z
          .string()
          .max(128)
          .optional()
          .describe(
            'Server / User-Agent header value to send. Default: none (no product or version string).',
          ),
        digestAlgorithms: z
          .array(z.enum(['MD5', 'SHA-256']))
          .min(1)
          .default(['MD5'])
          .describe(
            'Digest algorithms offered in challenges, in order (one challenge each). Default MD5 only, as Kamailio does: sipp and many phones answer only the first challenge, SIP.js and JsSIP only the last, and few do SHA-256 (RFC 8760). Add SHA-256 for phones that support it.',
          ),
        rateLimit: z
          .number()
          .int()
          .min(0)
          .default(200)
          .describe(
            'Requests per second allowed from one source IP (token bucket, burst 2×); excess is dropped. 0 = no limit.',
          ),
        banAfterFailures: z
          .number()
          .int()
          .min(0)
          .default(10)
          .describe(
            'Failed authentications of one user from one IP within 60 s before that user is banned from that IP; the IP itself is banned past 5 × this many failures (any users) within 60 s. 0 = never ban.',
          ),
        banSeconds: z
          .number()
          .int()
          .min(1)
          .max(86_400 * 30)
          .default(600)
          .describe('How long a ban lasts, in seconds.'),
        recurse3xx: z
          .boolean()
          .default(true)
          .describe(
            'On a 3xx, try its Contacts as new branches (otherwise the 3xx is passed upstream).',
          ),
        dnsServers: z
          .array(
            z
              .string()
              .regex(
                /^(\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?|\[[0-9a-fA-F:.]+\](:\d{1,5})?|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*)$/,
                'expected an IP address, optionally with :port ([v6]:port for IPv6)',
              ),
          )
          .max(8)
          .default([])
          .describe(
            "DNS servers for locating other SIP servers (RFC 3263: NAPTR, SRV, A/AAAA) when relaying to a domain that is not ours. Default: the system's.",
          ),
        traceMessages: z
          .number()
          .int()
          .min(0)
          .max(100_000)
          .default(1000)
          .describe('Recent SIP messages kept for the console ladder view. 0 = no trace.'),
      })
      .strict()
      .prefault({}),

    media: z
      .object({
        engine: z
          .enum(['builtin', 'rtpengine'])
          .default('builtin')
          .describe(
            'Media engine that anchors call media: builtin (an RTP relay in worker threads, nothing to install) or rtpengine (over its ng protocol, for scale). See docs/media.md.',
          ),
        zones: z
          .record(
            z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'zone names are a-z, 0-9 and -'),
            z
              .object({
                address: z
                  .union([z.ipv4(), z.ipv6()])
                  .refine((a) => a !== '0.0.0.0' && !/^[0:]+$/.test(a), {
                    message:
                      'a media zone binds one local address, never the wildcard (0.0.0.0, ::)',
                  })
                  .describe('Local address media sockets of this zone bind (never the wildcard).'),
                advertisedAddress: z
                  .union([z.ipv4(), z.ipv6()])
                  .optional()
                  .describe('Address written into SDP when it differs (1:1 NAT).'),
              })
              .strict(),
          )
          .default({ default: { address: '127.0.0.1' } })
          .describe(
            'Media address per zone (the SBC names a zone per leg). Default: one zone `default` on 127.0.0.1; set it to the address phones reach.',
          ),
        portMin: port.min(1024).default(30000).describe('Lowest media port (RTP even, RTCP odd).'),
        portMax: port.min(1024).default(39999).describe('Highest media port.'),
        workers: z
          .number()
          .int()
          .min(0)
          .max(64)
          .default(0)
          .describe('Built-in engine: media worker threads. 0 = cores − 1, at least 1.'),
        timeout: z
          .number()
          .int()
          .min(0)
          .max(86_400)
          .default(60)
          .describe(
            'Seconds without RTP from a sending party before media-timeout (paused on hold). 0 = never.',
          ),
        statsInterval: z
          .number()
          .int()
          .min(0)
          .max(3600)
          .default(10)
          .describe(
            'Seconds between the periodic per-leg stats events of each call (both engines; rtpengine by query). 0 = only at the end of a call.',
          ),
        floodPps: z
          .number()
          .int()
          .min(50)
          .max(1_000_000)
          .default(2000)
          .describe(
            'Built-in engine: packets per second one party may send; more are dropped and counted (the guard recovers).',
          ),
        recordDir: z
          .string()
          .optional()
          .describe('Folder for call recordings. Default: <dataDir>/recordings.'),
        rtpengine: z
          .object({
            urls: z
              .array(
                z
                  .string()
                  .regex(
                    /^udp6?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/,
                    'expected udp:HOST:PORT (udp:[v6]:PORT for IPv6)',
                  ),
              )
              .max(32)
              .default([])
              .describe(
                "rtpengine instances' ng control addresses (listen-ng), e.g. udp:127.0.0.1:2223. Required when media.engine is rtpengine.",
              ),
            dtmfListen: z
              .string()
              .regex(
                /^udp6?:(\[[0-9a-fA-F:.]+\]|[0-9.]+):\d{1,5}$/,
                'expected udp:IP:PORT (udp:[v6]:PORT for IPv6)',
              )
              .optional()
              .describe(
                "Where TFX receives the rtpengine daemons' DTMF log (run them with dtmf-log-dest = IP:PORT), e.g. udp:127.0.0.1:2224; each event becomes a dtmf event. Unset: no DTMF events from rtpengine.",
              ),
            interfaces: z
              .record(
                z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'zone names are a-z, 0-9 and -'),
                z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, 'an rtpengine interface name'),
              )
              .default({})
              .describe(
                "rtpengine logical interface per SBC zone (zone → name of the daemon's `interface = NAME/ADDRESS`), so each leg's media is on its zone's address (ng `direction`). Empty: the daemon's default interface for every leg.",
              ),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .superRefine((m, ctx) => {
        if (m.portMax - m.portMin < 3)
          ctx.addIssue({
            code: 'custom',
            path: ['portMax'],
            message: 'media.portMax must be at least media.portMin + 3',
          });
        if (m.engine === 'rtpengine' && m.rtpengine.urls.length === 0)
          ctx.addIssue({
            code: 'custom',
            path: ['rtpengine', 'urls'],
            message: 'media.engine rtpengine needs at least one media.rtpengine.urls entry',
          });
        if (Object.keys(m.zones).length === 0)
          ctx.addIssue({ code: 'custom', path: ['zones'], message: 'at least one media zone' });
      })
      .prefault({}),

    // The Session Border Controller (docs/sbc.md): runs when sbc.zones is not empty.
    sbc: sbcSchema.prefault({}),

    widgets: z
      .object({
        manifest: z
          .string()
          .optional()
          .describe(
            'Path of widgetmanifest.json. Default: <dataDir>/widgetmanifest.json, seeded with the built-in widgets.',
          ),
        dir: z
          .string()
          .min(1)
          .default('./widgets')
          .describe(
            'Folder of local widgets served at /widgets/<id>/ (one subfolder per widget, as `tfx widget new` makes them). Built-in widgets take precedence.',
          ),
        maxMessageBytes: z
          .number()
          .int()
          .min(1024)
          .max(16 * 1024 * 1024)
          .default(1_048_576)
          .describe('Largest widget message; larger ones fail with widget-message-too-large.'),
      })
      .strict()
      .prefault({}),

    translation: z
      .object({
        provider: z
          .enum(['none', 'libretranslate', 'apertium-apy'])
          .default('none')
          .describe(
            'Machine translation for multilingual chat and captions (docs/language.md): none (off), a LibreTranslate server, or an Apertium APy server. Text sent to it leaves the peer-to-peer path, so each room opts in too.',
          ),
        url: z
          .url()
          .optional()
          .describe(
            'Base URL of the translation server, e.g. http://127.0.0.1:5000 (LibreTranslate) or http://127.0.0.1:2737 (APy). Required unless provider is none.',
          ),
        apiKey: z
          .string()
          .min(1)
          .max(256)
          .optional()
          .describe('API key sent to LibreTranslate (api_key) or APy (key). Default: none.'),
        timeoutMs: z
          .number()
          .int()
          .min(100)
          .max(60_000)
          .default(5000)
          .describe(
            'A translation request to the provider unanswered this long fails with translation-unavailable.',
          ),
        maxTextChars: z
          .number()
          .int()
          .min(1)
          .max(20_000)
          .default(2000)
          .describe('Longest text accepted for one translation; longer is payload-too-large.'),
        cacheEntries: z
          .number()
          .int()
          .min(0)
          .max(1_000_000)
          .default(5000)
          .describe(
            'Translations kept in memory by (text, from, to), least recently used dropped first. 0 = no cache.',
          ),
        perPeerPerMinute: z
          .number()
          .int()
          .min(1)
          .max(100_000)
          .default(60)
          .describe(
            'Texts one peer may have translated per minute (cache hits included; burst of the same number); beyond it rate-limited.',
          ),
        roomsByDefault: z
          .boolean()
          .default(false)
          .describe(
            'Every room may use translation without opting in. Default: only rooms opted in through PUT /api/v1/rooms/<name>/language.',
          ),
      })
      .strict()
      .prefault({})
      .superRefine((t, ctx) => {
        if (t.provider !== 'none' && t.url === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['url'],
            message: `translation.url is required with provider ${t.provider}`,
          });
      }),

    captions: z
      .object({
        provider: z
          .enum(['none', 'openai-compatible', 'vosk'])
          .default('none')
          .describe(
            'Speech-to-text for live captions (docs/language.md): none (off), an OpenAI-compatible /v1/audio/transcriptions endpoint (faster-whisper, speaches, whisper.cpp server), or a Vosk WebSocket server. Audio sent to it leaves the peer-to-peer path, so each room opts in too.',
          ),
        url: z
          .string()
          .regex(/^(https?|wss?):\/\/[^\s]+$/, 'expected an http(s):// or ws(s):// URL')
          .optional()
          .describe(
            'openai-compatible: the base URL before /v1/audio/transcriptions; vosk: the ws:// URL of the server. Required unless provider is none.',
          ),
        apiKey: z
          .string()
          .min(1)
          .max(256)
          .optional()
          .describe('Bearer token for the openai-compatible endpoint. Default: none.'),
        model: z
          .string()
          .min(1)
          .max(128)
          .default('whisper-1')
          .describe('The model field sent to the openai-compatible endpoint.'),
        timeoutMs: z
          .number()
          .int()
          .min(100)
          .max(120_000)
          .default(15_000)
          .describe(
            'A transcription unanswered this long fails with captions-unavailable (the segment is dropped).',
          ),
        maxSegmentBytes: z
          .number()
          .int()
          .min(1024)
          .max(16 * 1024 * 1024)
          .default(1_048_576)
          .describe(
            'Largest audio segment accepted (WAV, 16-bit PCM); the call page sends segments of a few seconds (16 kHz mono: 32 kB/s).',
          ),
        perPeerPerMinute: z
          .number()
          .int()
          .min(1)
          .max(100_000)
          .default(40)
          .describe('Audio segments one peer may send per minute; beyond it rate-limited.'),
        roomsByDefault: z
          .boolean()
          .default(false)
          .describe(
            'Every room may use captions without opting in. Default: only rooms opted in through PUT /api/v1/rooms/<name>/language.',
          ),
      })
      .strict()
      .prefault({})
      .superRefine((c, ctx) => {
        if (c.provider !== 'none' && c.url === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['url'],
            message: `captions.url is required with provider ${c.provider}`,
          });
        if (c.provider === 'vosk' && c.url !== undefined && !/^wss?:/.test(c.url))
          ctx.addIssue({
            code: 'custom',
            path: ['url'],
            message: 'captions.url must be a ws:// or wss:// URL with provider vosk',
          });
        if (c.provider === 'openai-compatible' && c.url !== undefined && !/^https?:/.test(c.url))
          ctx.addIssue({
            code: 'custom',
            path: ['url'],
            message:
              'captions.url must be an http:// or https:// URL with provider openai-compatible',
          });
      }),

    // The WebRTC ↔ SIP gateway's web side (docs/sdk.md, "Calling phones").
    gateway: z
      .object({
        roomDialOut: z
          .string()
          .regex(/^[A-Za-z0-9._+-]{1,64}$/, 'a SIP username: 1–64 of A–Z a–z 0–9 . _ + -')
          .optional()
          .describe(
            "The SIP account (one of sip.users) billed when a room's moderator calls a phone from the room's dial pad. Unset (the default): nobody dials out from a room without signing in with a SIP account of their own.",
          ),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    const account = c.gateway.roomDialOut;
    if (account !== undefined && !c.sip.users.some((u) => u.username === account))
      ctx.addIssue({
        code: 'custom',
        path: ['gateway', 'roomDialOut'],
        message: `gateway.roomDialOut names ${account}, which is not one of sip.users`,
      });
  });

/** The validated, frozen configuration every component receives. */
export type Config = z.output<typeof configSchema>;
/** What a YAML file, the environment or flags may hold before defaults are applied. */
export type ConfigInput = z.input<typeof configSchema>;
