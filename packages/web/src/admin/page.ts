/**
 * The console's page API and registry. The console (main.ts) is a frame: sign-in, navigation,
 * theme, a refresh loop and notices. Everything it shows is a page:
 *
 *   - `id` — the hash route (`#rooms`, `#rooms/<arg>`); unique.
 *   - `title` — the navigation link's name and the document title.
 *   - `icon` — one of ICON_PATHS (icons.ts), drawn before the title.
 *   - `group` — the navigation section it sits in (`Platform`, `SIP`, `Media`, `SBC`…).
 *   - `mount(ctx, arg)` — builds the page into `ctx.root` and returns a `PageView` whose
 *     `update()` the frame calls at once and then every 2 s while the page is shown (fetch with
 *     `ctx.rest`, then redraw); `dispose()` when the operator leaves the page.
 *
 * A new page is one file exporting a `ConsolePage` and one `registerPage(…)` line in pages.ts.
 * See docs/console.md.
 */
import type { AdminApi } from './api.js';
import type { IconName } from './icons.js';
import type { Rest } from './rest.js';

export interface PageContext {
  /** The REST API (`/api/v1/…`) with the admin token. */
  readonly rest: Rest;
  /** The SIP server's REST client (`/api/v1/sip/…`). */
  readonly api: AdminApi;
  /** The page's element (empty when mount is called). */
  readonly root: HTMLElement;
  /** A short notice at the bottom of the screen. */
  notify(text: string, kind?: 'ok' | 'error'): void;
  /** Changes the hash route without remounting when it stays on this page (`rooms/abc`). */
  go(route: string): void;
}

/** A mounted page: refreshed every few seconds while shown. */
export interface PageView {
  update(): Promise<void>;
  dispose?(): void;
}

export interface ConsolePage {
  readonly id: string;
  readonly title: string;
  readonly icon: IconName;
  readonly group: string;
  /** True: choosing another `#id/<arg>` inside the page only changes the hash (no remount). */
  readonly keepOnArg?: boolean;
  mount(ctx: PageContext, arg: string | undefined): PageView;
}

const registry: ConsolePage[] = [];

/** Adds a page to the navigation (in registration order, grouped by `group`). */
export function registerPage(page: ConsolePage): void {
  if (!/^[a-z][a-z0-9-]*$/.test(page.id)) throw new Error(`bad console page id "${page.id}"`);
  if (registry.some((p) => p.id === page.id))
    throw new Error(`console page "${page.id}" is registered twice`);
  registry.push(page);
}

export function registeredPages(): readonly ConsolePage[] {
  return registry;
}

/** Groups in the order their first page was registered. */
export function pageGroups(): Array<{ group: string; pages: ConsolePage[] }> {
  const out: Array<{ group: string; pages: ConsolePage[] }> = [];
  for (const p of registry) {
    let g = out.find((x) => x.group === p.group);
    if (!g) out.push((g = { group: p.group, pages: [] }));
    g.pages.push(p);
  }
  return out;
}
