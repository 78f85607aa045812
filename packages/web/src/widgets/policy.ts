/**
 * How the call page frames a widget, from its manifest entry. Pure (unit-tested).
 *
 * - `sandbox="allow-scripts allow-forms"`, plus `allow-downloads` / `allow-popups` only when the
 *   manifest grants them, and `allow-same-origin` only when the widget's origin differs from the
 *   call page's (a same-origin frame with scripts and same-origin could remove its own sandbox).
 * - `allow` carries only the granted camera / microphone.
 * - The widget's URL must lie inside its origin: `origin` when the entry names one, else the call
 *   page's own. Anything else is blocked before it loads.
 */
import type { WidgetManifestEntry } from '@tfx/protocol/widgets';

export interface FramePlan {
  readonly src: string;
  readonly sandbox: string;
  readonly allow: string;
  /** The origin the widget's messages must come from (`null` for an opaque, sandboxed origin). */
  readonly messageOrigin: string;
  /** The origin the manifest allows for this widget. */
  readonly allowedOrigin: string;
}

export type FrameDecision =
  | { readonly ok: true; readonly plan: FramePlan }
  | { readonly ok: false; readonly blockedOrigin: string };

export function planFrame(entry: WidgetManifestEntry, hostOrigin: string): FrameDecision {
  let url: URL;
  try {
    url = new URL(entry.url, hostOrigin);
  } catch {
    return { ok: false, blockedOrigin: entry.url };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return { ok: false, blockedOrigin: url.protocol };
  const allowedOrigin = entry.origin ?? hostOrigin;
  if (url.origin !== allowedOrigin) return { ok: false, blockedOrigin: url.origin };
  const crossOrigin = url.origin !== hostOrigin;
  const p = entry.permissions ?? {};
  const sandbox = ['allow-scripts', 'allow-forms'];
  if (p.downloads) sandbox.push('allow-downloads');
  if (p.popups) sandbox.push('allow-popups');
  if (crossOrigin) sandbox.push('allow-same-origin');
  const allow: string[] = [];
  if (p.camera) allow.push('camera');
  if (p.microphone) allow.push('microphone');
  return {
    ok: true,
    plan: {
      src: url.href,
      sandbox: sandbox.join(' '),
      allow: allow.join('; '),
      messageOrigin: crossOrigin ? url.origin : 'null',
      allowedOrigin,
    },
  };
}

export function blockedText(origin: string): string {
  return `Widget blocked: origin ${origin} not allowed`;
}
