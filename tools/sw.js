// Service worker added by tools/build_site.py: after the first visit the site loads from this cache,
// with no network at all (offline, and no revalidation round trips on a slow link).
// VERSION is a hash of every file of the build, so a new build installs a new cache and drops the old.
const VERSION = '__VERSION__';
const FILES = __FILES__;  // every file of the build, relative to this script -> its integrity (SRI)
const CACHE = `climate-atlas-${VERSION}`;

self.addEventListener('install', (event) => {
  // The page registers this worker once the dashboard is ready, so these requests are mostly
  // answered by the HTTP cache (revalidated) rather than downloaded again. The integrity check fails
  // the install if the host already serves another build's file, instead of caching it as this one's.
  const requests = Object.entries(FILES).map(([url, integrity]) => new Request(url, {integrity}));
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(requests)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('climate-atlas-') && k !== CACHE)
      .map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(caches.open(CACHE).then(async (cache) => {
    // The build is versioned as a whole, so a query (Panel adds ?v=<version> to assets) is ignored
    const hit = await cache.match(request, {ignoreSearch: true});
    return hit || fetch(request);
  }));
});
