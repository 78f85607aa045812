/**
 * Static files of widgets TFX serves: built-in widgets (the `@tfx/widgets` build) and local
 * widgets (`widgets.dir`, e.g. made by `tfx widget new`). `/widgets/<id>/<file>`; a folder
 * that exists among the built-ins wins. No directory listing, no dotfiles, no `..`.
 */
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

export interface ResolvedFile {
  readonly path: string;
  readonly type: string;
  readonly size: number;
  /** The first path segment: the widget id (or `assets` for shared built-in chunks). */
  readonly folder: string;
  readonly builtin: boolean;
}

/** Maps `/widgets/<rest>` to a file under one of the roots, or `null`. */
export async function resolveWidgetFile(
  rest: string,
  roots: { readonly builtin?: string | undefined; readonly local?: string | undefined },
): Promise<ResolvedFile | null> {
  let rel: string;
  try {
    rel = decodeURIComponent(rest.split('?')[0] ?? '');
  } catch {
    return null;
  }
  if (rel.includes('\0') || rel.includes('\\')) return null;
  const parts = rel.split('/').filter((p) => p !== '');
  if (parts.length === 0 || parts.some((p) => p.startsWith('.'))) return null;
  const folder = parts[0] as string;
  if (!/^[A-Za-z0-9_-]+$/.test(folder)) return null;
  const builtin = roots.builtin !== undefined && existsSync(join(roots.builtin, folder));
  const root = builtin ? roots.builtin : roots.local;
  if (!root) return null;
  let path = normalize(join(root, ...parts));
  if (!path.startsWith(normalize(root) + sep)) return null;
  let s = await stat(path).catch(() => null);
  if (s?.isDirectory()) {
    path = join(path, 'index.html');
    s = await stat(path).catch(() => null);
  }
  if (!s?.isFile()) return null;
  return {
    path,
    type: TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
    size: s.size,
    folder,
    builtin,
  };
}

export function fileStream(path: string): NodeJS.ReadableStream {
  return createReadStream(path);
}
