// Service worker of the citizens' page: keeps the page's shell (HTML, styles, scripts, texts) so that
// /near opens without a connection. Answers from the network first, so a new version of the page is
// seen at once; the cache is only the fallback. Searches (/api/...) are never cached: a stale list
// of "open now" points would be wrong.

const CACHE = 'milan-near-shell-v2';
const SHELL = [
  '/near',
  '/near.webmanifest',
  '/static/css/app.css',
  '/static/vendor/leaflet/leaflet.css',
  '/static/vendor/leaflet/leaflet.js',
  '/static/js/near.js',
  '/static/js/api.js',
  '/static/js/dom.js',
  '/static/js/format.js',
  '/static/js/i18n.js',
  '/static/js/position.js',
  '/static/i18n/it.json',
  '/static/i18n/en.json',
  '/static/img/favicon.svg',
];
const SHELL_PATHS = new Set(SHELL);

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith('milan-near-') && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

async function networkThenShell(request, key) {
  try {
    const response = await fetch(request);
    if (response.ok) {
      const cache = await caches.open(CACHE);
      await cache.put(key, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await caches.match(key);
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // Every linked search (/near?service=…) is the same shell: one cache entry for all of them.
  if (url.pathname === '/near') {
    event.respondWith(networkThenShell(request, '/near'));
  } else if (SHELL_PATHS.has(url.pathname)) {
    event.respondWith(networkThenShell(request, url.pathname));
  }
});
