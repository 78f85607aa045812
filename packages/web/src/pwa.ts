/**
 * Makes the app installable: registers the service worker (`/sw.js`, scope `/`), which precaches
 * the app shell and serves an offline page. Skipped where service workers are unavailable.
 */
if ('serviceWorker' in navigator && window.isSecureContext) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => undefined);
  });
}
export {};
