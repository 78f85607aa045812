/**
 * Room dial-out credentials (`gateway.roomDialOut`): a room's moderator may call phones billed to
 * one SIP account without ever seeing that account's password. The server mints a short-lived
 * digest username for the account — `<account>~room~<expiry s>~<nonce>` — whose password is an
 * HMAC of the username under a key derived from the admin token (the scheme of TURN's REST
 * credentials); the SBC's digest accepts it until it expires (`ha1`), and its fraud limits and
 * CDRs count it as the account (`accountOf`). Pure apart from `node:crypto`; clock injected.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { computeHa1, nodeDigestHash, type DigestAlgorithm } from '@tfx/sip';

/** How long a minted credential may start calls (a call in progress is not cut at expiry). */
export const DIAL_OUT_TTL_MS = 15 * 60_000;
const MARKER = '~room~';
const FORM = /^([A-Za-z0-9._~+-]{1,64})~room~(\d{1,12})~([A-Za-z0-9_-]{16})$/;

export interface DialOutCredential {
  readonly username: string;
  readonly password: string;
  readonly account: string;
  readonly expiresAt: number;
}

/** The HMAC key of room dial-out credentials, derived from the admin token (one per deployment). */
export function dialOutKey(adminToken: string): Buffer {
  return createHmac('sha256', adminToken).update('tfx room dial-out v1').digest();
}

export class RoomDialOut {
  readonly #key: Buffer;
  readonly #now: () => number;

  constructor(
    /** The SIP account billed (`gateway.roomDialOut`). */
    readonly account: string,
    key: Buffer,
    now: () => number = Date.now,
  ) {
    this.#key = key;
    this.#now = now;
  }

  /** A fresh credential, valid for `DIAL_OUT_TTL_MS`. */
  mint(): DialOutCredential {
    const expiresAt = this.#now() + DIAL_OUT_TTL_MS;
    const nonce = randomBytes(12).toString('base64url');
    const username = `${this.account}${MARKER}${Math.floor(expiresAt / 1000)}~${nonce}`;
    return { username, password: this.#password(username), account: this.account, expiresAt };
  }

  /**
   * The HA1 of a room dial-out username in `realm` (RFC 3261 §22.4 / RFC 2617 §3.2.2.2), or
   * `undefined` for anything else: another form, another account, an expired one.
   */
  ha1(username: string, realm: string, algorithm: DigestAlgorithm): string | undefined {
    const m = FORM.exec(username);
    if (!m || m[1] !== this.account) return undefined;
    if (Number(m[2]) * 1000 <= this.#now()) return undefined;
    return computeHa1(nodeDigestHash, algorithm, username, realm, this.#password(username));
  }

  /** The account a digest username bills: the room dial-out's account, else the username. */
  accountOf(username: string): string {
    const m = FORM.exec(username);
    return m && m[1] === this.account ? this.account : username;
  }

  #password(username: string): string {
    return createHmac('sha256', this.#key).update(username).digest('base64url').slice(0, 32);
  }
}
