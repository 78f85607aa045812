/**
 * The console's REST client: every console action is one call to the platform's REST API
 * (`/api/v1/…`, documented in `/api/v1/openapi.json`) with the admin token as
 * `Authorization: Bearer`. Errors come back as `ApiError` with the error catalogue's code.
 */
import type { ErrorResponse } from '@tfx/protocol';

/** A refused request: HTTP status and the error catalogue's code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Marks the console's own requests, so the audit log can tell them from scripts' (`via`). */
export const CONSOLE_HEADER = 'x-tfx-console';

export class Rest {
  constructor(readonly token: string) {}

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }
  put<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }
  delete<T = void>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  /** `path` is absolute (`/api/v1/…`). A 204 resolves with `undefined`. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      [CONSOLE_HEADER]: '1',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        headers,
        cache: 'no-store',
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new ApiError(0, 'network', 'The server cannot be reached.');
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const err = (json as Partial<ErrorResponse> | undefined)?.error;
      throw new ApiError(
        res.status,
        err?.code ?? 'error',
        err?.message ?? `${res.status} ${res.statusText}`,
      );
    }
    return json as T;
  }
}
