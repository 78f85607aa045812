/**
 * Makes the app installable: registers the service worker (`/sw.js`, scope `/`), which precaches
 * the app shell and serves an offline page. Skipped where service workers are unavailable.
 */
if ('serviceWorker' in navigator && window.isSecureContext) {
  const register = (): void => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => undefined);
  };
  // After `load` (the page's own requests first); the call page imports this lazily, possibly
  // after `load` has fired.
  if (document.readyState === 'complete') register();
  else window.addEventListener('load', register, { once: true });
}
export {};
