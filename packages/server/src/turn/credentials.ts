/**
 * ICE servers handed to browsers at join and resume.
 *
 * - `turn.urls` lists STUN/TURN URLs. `stun:`/`stuns:` URLs are handed out as they are.
 * - With `turn.secret`, `turn:`/`turns:` URLs come with time-limited credentials in the TURN REST
 *   scheme that coturn checks with `use-auth-secret` + `static-auth-secret`:
 *   username `<unix expiry>:<peerId>`, credential `base64(HMAC-SHA1(secret, username))`,
 *   expiry = now + `turn.ttl` seconds.
 * - With the built-in STUN responder enabled (`turn.stun.enabled`), a `stun:` URL to it is added.
 * - With nothing configured the list is empty: calls work on a LAN only.
 *
 * Pure: the clock is a parameter.
 */
import { createHmac } from 'node:crypto';
import type { Config } from '../config/index.js';

/** The shape of `RTCIceServer` (what the join and resume acks carry). */
export interface IceServer {
  readonly urls: string[];
  readonly username?: string;
  readonly credential?: string;
}

export type IceConfig = {
  readonly turn: Pick<Config['turn'], 'secret' | 'urls' | 'ttl'> & {
    readonly stun: Pick<Config['turn']['stun'], 'enabled' | 'port'>;
  };
  readonly server: Pick<Config['server'], 'publicUrl'>;
};

export interface IceOptions {
  /** The platform's public base URL (`ctx.publicUrl()`); its host names the STUN responder.
   * Default: `server.publicUrl`, else `localhost`. */
  readonly publicUrl?: string | undefined;
  /** The port the built-in STUN responder really listens on (when `turn.stun.port` is 0). */
  readonly stunPort?: number | undefined;
}

/** TURN REST API credentials (draft-uberti-behave-turn-rest, as implemented by coturn). */
export function turnRestCredential(
  secret: string,
  user: string,
  expiresAtUnix: number,
): { username: string; credential: string } {
  const username = `${Math.floor(expiresAtUnix)}:${user}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential };
}

function hostOf(url: string | undefined): string {
  if (!url) return 'localhost';
  try {
    // WHATWG URL keeps IPv6 hosts in brackets; they are added back below.
    const h = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
    return h || 'localhost';
  } catch {
    return 'localhost';
  }
}

/**
 * The ICE servers for one peer at one moment (`now` in ms since the epoch).
 * Call it at every join and every resume: credentials are minted per peer and expire.
 */
export function mintIceServers(
  config: IceConfig,
  peerId: string,
  now: number,
  options: IceOptions = {},
): IceServer[] {
  const servers: IceServer[] = [];
  const stunUrls = config.turn.urls.filter((u) => /^stuns?:/.test(u));
  const turnUrls = config.turn.urls.filter((u) => /^turns?:/.test(u));

  if (config.turn.stun.enabled) {
    const port = options.stunPort ?? config.turn.stun.port;
    const host = hostOf(options.publicUrl ?? config.server.publicUrl);
    stunUrls.unshift(`stun:${host.includes(':') ? `[${host}]` : host}:${port}`);
  }
  if (stunUrls.length > 0) servers.push({ urls: stunUrls });

  if (turnUrls.length > 0) {
    if (config.turn.secret) {
      const expires = Math.floor(now / 1000) + config.turn.ttl;
      servers.push({ urls: turnUrls, ...turnRestCredential(config.turn.secret, peerId, expires) });
    } else {
      // A TURN server without a shared secret (e.g. coturn with no-auth): hand out the URLs.
      servers.push({ urls: turnUrls });
    }
  }
  return servers;
}

/** One line for the start banner: what browsers will get for NAT traversal. */
export function describeIce(config: IceConfig): string {
  const turn = config.turn.urls.filter((u) => /^turns?:/.test(u)).length;
  const stun = config.turn.urls.filter((u) => /^stuns?:/.test(u)).length;
  const parts: string[] = [];
  if (config.turn.stun.enabled) parts.push(`built-in STUN on udp/${config.turn.stun.port}`);
  if (stun > 0) parts.push(`${stun} STUN URL(s)`);
  if (turn > 0)
    parts.push(
      `${turn} TURN URL(s) ${config.turn.secret ? `with ${config.turn.ttl}s credentials` : 'without credentials'}`,
    );
  return parts.length > 0 ? parts.join(', ') : 'no STUN/TURN configured: calls work on a LAN only';
}
