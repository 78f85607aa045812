/**
 * The HTTP calls the providers make: a bounded time, a bounded answer size, and every failure
 * (refused connection, timeout, non-2xx, not JSON, too big) as a `ProviderFailure` naming what
 * went wrong. The caller maps it to its catalogue code.
 */

export class ProviderFailure extends Error {
  constructor(
    message: string,
    /** HTTP status when the provider answered one. */
    readonly status?: number,
    /** The provider's own error message when it gave one (bounded). */
    readonly providerMessage?: string,
  ) {
    super(message);
    this.name = 'ProviderFailure';
  }
}

const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export interface JsonAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** Fetches and parses a JSON answer; throws `ProviderFailure` on anything but a JSON body. */
export async function fetchJson(
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<JsonAnswer> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError')
      throw new ProviderFailure(`no answer within ${timeoutMs} ms`);
    throw new ProviderFailure(`unreachable: ${(err as Error).message}`);
  }
  let text: string;
  try {
    text = await readBounded(res);
  } catch (err) {
    if (err instanceof ProviderFailure) throw err;
    const name = (err as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError')
      throw new ProviderFailure(`answer not complete within ${timeoutMs} ms`, res.status);
    throw new ProviderFailure(`answer broken: ${(err as Error).message}`, res.status);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ProviderFailure(
      `answer is not JSON (HTTP ${res.status}): ${text.slice(0, 80)}`,
      res.status,
    );
  }
  return { status: res.status, body };
}

async function readBounded(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new ProviderFailure(`answer larger than ${MAX_ANSWER_BYTES} bytes`, res.status);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function rec(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : null;
}

/** The provider's error message in an answer such as `{error: "…"}` or `{message: "…"}`. */
export function providerMessage(body: unknown): string | undefined {
  const o = rec(body);
  if (!o) return undefined;
  const m = o.error ?? o.message ?? o.explanation ?? rec(o.error)?.message;
  if (typeof m === 'string') return m.slice(0, 200);
  const inner = rec(o.error);
  return typeof inner?.message === 'string' ? inner.message.slice(0, 200) : undefined;
}

/** `base` + `path` with exactly one slash between them. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
