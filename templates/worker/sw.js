/* 排查通 service worker (rendered by fieldapp.worker.views.service_worker).
 *
 * - install: precache the versioned app shell into fieldapp-static-<version>;
 *   no skipWaiting here: a new version waits until the page asks for it
 *   (the worker taps "新版本可用，点击更新", never while a form is dirty).
 * - activate: delete only fieldapp-* caches that are not expected; IndexedDB
 *   (outbox, drafts) is never touched by the service worker.
 * - fetch: navigations under /app/ get the cached shell (cache first, so the
 *   HTML and the modules always come from the same version); shell files
 *   cache first; /api/ never cached.
 */
const VERSION = '{{ version }}';
const STATIC_CACHE = `fieldapp-static-${VERSION}`;
const EXPECTED_CACHES = new Set([STATIC_CACHE]);
const PRECACHE = {{ precache|safe }};
const SHELL_URL = PRECACHE[0];
const SCOPE_PATH = new URL(self.registration.scope).pathname;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(STATIC_CACHE);
    // Without cookies: the shell is the same for everyone and holds no user data.
    await cache.addAll(PRECACHE.map((url) => new Request(url, {credentials: 'omit', cache: 'reload'})));
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('fieldapp-') && !EXPECTED_CACHES.has(name)) {
        await caches.delete(name);
      }
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  const data = event.data || {};
  if (data.type === 'SKIP_WAITING') {
    self.skipWaiting();
  } else if (data.type === 'GET_VERSION' && event.ports[0]) {
    event.ports[0].postMessage({version: VERSION});
  }
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  if (request.mode === 'navigate') {
    if (url.pathname.startsWith(SCOPE_PATH) && !url.pathname.endsWith('/sw.js')) {
      event.respondWith(shell(request));
    }
    return;
  }
  event.respondWith(cacheFirst(request));
});

async function shell(request) {
  const cache = await caches.open(STATIC_CACHE);
  const cached = await cache.match(SHELL_URL);
  return cached || fetch(request);
}

async function cacheFirst(request) {
  const cache = await caches.open(STATIC_CACHE);
  const cached = await cache.match(request, {ignoreSearch: true});
  return cached || fetch(request);
}

// Background Sync (Chrome/Edge): ask an open page to sync; the page owns the
// outbox and the token, the service worker never sends visits itself.
self.addEventListener('sync', (event) => {
  if (event.tag !== 'fieldapp-outbox') return;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({type: 'window'});
    for (const client of windows) client.postMessage({type: 'SYNC_REQUESTED'});
  })());
});
