/**
 * Content-Security-Policy for widgets TFX serves (`/widgets/<id>/…`), and the call page's
 * additions for cross-origin widgets. Pure.
 *
 * A served widget page is always sandboxed by its own CSP (`sandbox allow-scripts allow-forms`,
 * plus what the manifest grants), so it has an opaque origin even if something frames it without
 * the iframe `sandbox` attribute: it can never reach the platform's origin (cookies, storage, the
 * call page's DOM, signalling).
 */
import type { WidgetManifest, WidgetManifestEntry } from '@tfx/protocol';

export function widgetCsp(entry: WidgetManifestEntry | undefined, frameAncestors: string): string {
  const p = entry?.permissions;
  const sandbox = ['allow-scripts', 'allow-forms'];
  if (p?.downloads) sandbox.push('allow-downloads');
  if (p?.popups) sandbox.push('allow-popups');
  const connect = p?.fetch?.length ? p.fetch.join(' ') : "'none'";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    // Style attributes only (no <style>, no inline CSS files): editors such as CodeMirror +
    // y-codemirror.next colour remote cursors with `style="…"`. Scripts stay 'self' only.
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "media-src 'self' data: blob:",
    "worker-src 'self' blob:",
    `connect-src ${connect}`,
    `frame-ancestors ${frameAncestors}`,
    "base-uri 'none'",
    "form-action 'none'",
    `sandbox ${sandbox.join(' ')}`,
  ].join('; ');
}

/** Origins of the manifest's cross-origin widgets (what the call page's frame-src must allow). */
export function widgetOrigins(manifest: WidgetManifest): string[] {
  return [...new Set(manifest.flatMap((e) => (e.origin ? [e.origin] : [])))].sort();
}

/**
 * The call page's CSP with the widget origins added to `frame-src` (to frame them) and `img-src`
 * (their icons). Directives missing from `csp` are left alone.
 */
export function withWidgetOrigins(csp: string, origins: readonly string[]): string {
  if (origins.length === 0) return csp;
  const extra = origins.join(' ');
  return csp
    .split(';')
    .map((d) => {
      const t = d.trim();
      return /^(frame-src|img-src)\s/.test(t) ? `${t} ${extra}` : t;
    })
    .join('; ');
}
