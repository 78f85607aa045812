/** Icons for built-in icon names of the manifest (24×24 stroke SVGs, as strings). */
const svg = (body: string): string =>
  `<svg viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${body}</svg>`;

export const WIDGET_ICONS: Record<string, string> = {
  chat: svg('<path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/>'),
  code: svg('<path d="M16 18l6-6-6-6"/><path d="M8 6l-6 6 6 6"/>'),
  draw: svg('<path d="M12 19l7-7 3 3-7 7-3-3z"/><path d="M18 13l-1.5-7.5L2 2l3.5 14.5L13 18z"/>'),
  game: svg(
    '<rect x="2" y="6" width="20" height="12" rx="4"/><path d="M6 12h4M8 10v4"/><circle cx="16" cy="11" r="1"/><circle cx="18" cy="13" r="1"/>',
  ),
  file: svg(
    '<path d="M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z"/><path d="M14 2v6h6"/>',
  ),
  media: svg('<circle cx="12" cy="12" r="10"/><path d="M10 8l6 4-6 4z"/>'),
  custom: svg('<rect x="3" y="3" width="18" height="18" rx="4"/><path d="M12 8v8M8 12h8"/>'),
  puzzle: svg(
    '<path d="M19.4 13a2 2 0 1 0 0-3H18V6h-4V4.6a2 2 0 1 0-3 0V6H7v4h1.4a2 2 0 1 1 0 3H7v4h4v-1.4a2 2 0 1 1 3 0V17h4v-4z"/>',
  ),
  dice: svg(
    '<rect x="3" y="3" width="18" height="18" rx="3"/><circle cx="8" cy="8" r="1"/><circle cx="16" cy="16" r="1"/><circle cx="12" cy="12" r="1"/>',
  ),
  close: svg('<path d="M18 6L6 18"/><path d="M6 6l12 12"/>'),
  alert: svg('<circle cx="12" cy="12" r="10"/><path d="M12 8v4"/><path d="M12 16h.01"/>'),
};

/** The SVG for an icon name, falling back to the plugintype's. */
export function iconFor(name: string, plugintype: string): string {
  return WIDGET_ICONS[name] ?? WIDGET_ICONS[plugintype] ?? (WIDGET_ICONS.custom as string);
}
