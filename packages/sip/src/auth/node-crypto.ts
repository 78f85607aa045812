/**
 * The one binding of digest authentication to `node:crypto`. The cores (`digest.ts`,
 * `nonce.ts`, `server.ts`) take these functions as parameters and stay pure.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { DigestAlgorithm, DigestHash } from './digest.js';
import type { NonceCrypto } from './nonce.js';

const NODE_NAMES: Record<DigestAlgorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256' };

/** Hashes UTF-8 text with MD5 or SHA-256, lower-case hex. */
export const nodeDigestHash: DigestHash = (algorithm, data) =>
  createHash(NODE_NAMES[algorithm]).update(data, 'utf8').digest('hex');

/** HMAC-SHA-256 and randomness for {@link NonceManager}. */
export const nodeNonceCrypto: NonceCrypto = {
  hmacSha256: (key, data) => createHmac('sha256', key).update(data, 'utf8').digest('hex'),
  randomHex: (bytes) => randomBytes(bytes).toString('hex'),
};

/** A random client nonce (cnonce) for {@link answerChallenge}. */
export function randomCnonce(bytes = 12): string {
  return randomBytes(bytes).toString('base64url');
}
