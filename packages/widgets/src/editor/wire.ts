/**
 * The editor's wire format and small pure helpers (unit-tested). Every message is binary: one
 * kind byte, then a Yjs document update or a y-protocols awareness update.
 */
export const KIND_DOC = 0;
export const KIND_AWARENESS = 1;
export type Kind = typeof KIND_DOC | typeof KIND_AWARENESS;

export function frame(kind: Kind, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 1);
  out[0] = kind;
  out.set(payload, 1);
  return out;
}

export function unframe(data: ArrayBuffer): { kind: Kind; payload: Uint8Array } | undefined {
  const bytes = new Uint8Array(data);
  const kind = bytes[0];
  if (bytes.length < 2 || (kind !== KIND_DOC && kind !== KIND_AWARENESS)) return undefined;
  return { kind, payload: bytes.subarray(1) };
}

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** A stable colour per peer id (hue from a string hash), plus a light variant for selections. */
export function peerColour(id: string): { color: string; light: string } {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  const hue = h % 360;
  return { color: `hsl(${hue} 80% 65%)`, light: `hsl(${hue} 80% 65% / 0.25)` };
}

export const LANGUAGES = ['javascript', 'typescript', 'python', 'html', 'css', 'plain'] as const;
export type Language = (typeof LANGUAGES)[number];
export const isLanguage = (v: unknown): v is Language =>
  typeof v === 'string' && (LANGUAGES as readonly string[]).includes(v);
