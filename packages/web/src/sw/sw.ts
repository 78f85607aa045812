/**
 * The service worker (`/sw.js`, scope `/`): precaches the app shell at install (the list is
 * filled in by the build: vite.config.ts), serves pages network-first with the cached shell or
 * the offline page as a fallback, and assets cache-first. Never touches signalling, the REST
 * API or the SIP console's API: `/socket.io`, `/api`, `/sip` always go to the network.
 */

interface SwEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface SwFetchEvent extends SwEvent {
  readonly request: Request;
  respondWith(r: Promise<Response>): void;
}
interface SwScope {
  addEventListener(type: 'install' | 'activate', fn: (e: SwEvent) => void): void;
  addEventListener(type: 'fetch', fn: (e: SwFetchEvent) => void): void;
  skipWaiting(): Promise<void>;
  readonly clients: { claim(): Promise<void> };
  readonly location: Location;
}

const sw = self as unknown as SwScope;
/** Replaced at build time with the list of built files (JSON array of paths). */
const PRECACHE: readonly string[] = JSON.parse('"__TFX_PRECACHE__"') as string[];
const SHELL = [
  '/',
  '/room.html',
  '/offline.html',
  '/manifest.webmanifest',
  '/icons/icon.svg',
  '/icons/icon-192.png',
];
/** The cache is per build: hashed asset names change with every build that changes them. */
function hash(s: string): string {
  let x = 2166136261;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 16777619);
  return (x >>> 0).toString(36);
}
const CACHE = `tfx-shell-${hash(PRECACHE.join(','))}`;
const NEVER = /^\/(socket\.io|api|sip)(\/|$)/;

sw.addEventListener('install', (e) => {
  e.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll([...new Set([...SHELL, ...PRECACHE])]))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener('activate', (e) => {
  e.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((k) => k.startsWith('tfx-shell-') && k !== CACHE)
            .map((k) => caches.delete(k)),
        ),
      )
      .then(() => sw.clients.claim()),
  );
});

async function page(req: Request, path: string): Promise<Response> {
  try {
    return await fetch(req);
  } catch {
    const cache = await caches.open(CACHE);
    const shell = path.startsWith('/r/') ? '/room.html' : path;
    return (
      (await cache.match(shell, { ignoreSearch: true })) ??
      (await cache.match('/offline.html')) ??
      Response.error()
    );
  }
}

/** Hashed build assets and icons: cache first (they never change under one name). */
async function immutable(req: Request): Promise<Response> {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(req);
  if (hit) return hit;
  const res = await fetch(req);
  if (res.ok) void cache.put(req, res.clone());
  return res;
}

/** Anything else (the manifest, /embed.js, widgets): the network, else what the shell cached. */
async function networkFirst(req: Request): Promise<Response> {
  try {
    return await fetch(req);
  } catch {
    return (await (await caches.open(CACHE)).match(req)) ?? Response.error();
  }
}

sw.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== sw.location.origin || NEVER.test(url.pathname)) return;
  if (req.mode === 'navigate') e.respondWith(page(req, url.pathname));
  else if (/^\/(assets|icons)\//.test(url.pathname)) e.respondWith(immutable(req));
  else e.respondWith(networkFirst(req));
});
