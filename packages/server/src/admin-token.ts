/**
 * The admin token: given by the operator (admin.token / TFX_ADMIN_TOKEN / --admin-token) or
 * generated once, saved with mode 0600 in `<dataDir>/admin-token`, and printed once, when made.
 */
import { readFile, writeFile, chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';

export interface AdminToken {
  readonly token: string;
  /** True only on the start that created it: the banner prints it then, and never again. */
  readonly generated: boolean;
  readonly path?: string;
}

export async function loadOrCreateAdminToken(
  dataDir: string,
  given: string | undefined,
): Promise<AdminToken> {
  if (given) return { token: given, generated: false };
  const path = join(dataDir, 'admin-token');
  try {
    const token = (await readFile(path, 'utf8')).trim();
    if (token.length >= 16) return { token, generated: false, path };
  } catch {
    // not there yet
  }
  const token = randomBytes(24).toString('base64url');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return { token, generated: true, path };
}

/** Constant-time comparison of a presented bearer token with the expected one. */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (!presented) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Extracts the token of an `Authorization: Bearer <token>` header. */
export function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
