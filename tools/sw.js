// Service worker added by tools/build_site/ (service_worker.py): after the first visit the site loads
// from this cache, offline too; only the page itself is asked of the network first, so that a new tab
// gets the build the host serves now. Every build has a cache of its own, and a tab is served the build
// it opened with until it reloads, also after a redeploy: a tab fetches files long after it started
// (the scatter's HoloViews wheel, which Pyodide checks against the lock it booted with; Panel's CSS).
const VERSION = '__VERSION__';  // this build's name: a digest of its files
const FILES = __FILES__;  // every file of the build, relative to this script -> its integrity (SRI)
const PREFIX = 'climate-atlas-';
const cacheOf = (build) => PREFIX + build;
const PAGES = `${PREFIX}pages`;  // not a build: which build each open page runs, as it said

self.addEventListener('install', (event) => {
  // The page registers this worker once the dashboard is ready, so these requests are mostly
  // answered by the HTTP cache (revalidated) rather than downloaded again. The integrity check fails
  // the install if the host already serves another build's file, instead of caching it as this one's.
  const requests = Object.entries(FILES).map(([url, integrity]) => new Request(url, {integrity}));
  event.waitUntil(caches.open(cacheOf(VERSION)).then((cache) => cache.addAll(requests))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  // Taking over open tabs at once is safe: each keeps its own build (buildOf). Tabs of another build
  // are told that this one is newer (site_status.html offers a reload).
  event.waitUntil(self.clients.claim().then(dropUnusedBuilds).then(async () => {
    for (const client of await self.clients.matchAll({type: 'window'})) {  // this site's tabs
      client.postMessage({type: 'atlas-build', build: VERSION});
    }
  }));
});

self.addEventListener('message', (event) => {  // a page says which build it runs (site_status.html)
  if (event.data?.type !== 'atlas-build' || !(event.source instanceof WindowClient)) return;
  event.waitUntil(rememberPage(event.source.id, String(event.data.build)).then(dropUnusedBuilds));
});

self.addEventListener('fetch', (event) => {
  if (event.request.method !== 'GET' || new URL(event.request.url).origin !== self.location.origin) return;
  event.respondWith(respond(event));
});

// --- Routing: which build a request belongs to, and where its bytes come from ------------------------

const buildInUrl = (url) => {
  const parsed = url ? new URL(url) : null;
  return parsed?.origin === self.location.origin ? parsed.searchParams.get('atlas-build') : null;
};

// The build of the tab that made a request, or null if it is not known (yet).
async function buildOf(event) {
  if (event.request.mode === 'navigate') return null;  // a new page: whatever the host serves now
  // The page starts its Python worker as ./main.js?atlas-build=<build>: that request names it, and
  // so does every request of the worker, whose URL is their referrer (a worker that started before
  // this service worker took over has no clientId in Chromium, so its client cannot be looked up).
  const named = buildInUrl(event.request.url) ?? buildInUrl(event.request.referrer);
  return named ?? (event.clientId ? pageBuild(event.clientId) : null);
}

async function respond(event) {
  const request = event.request;
  const build = await buildOf(event);
  if (build !== null) {
    // A file the build's cache lacks (or a build with no cache here) comes from the network and is
    // never stored: the host may serve another build by now. Panel adds ?v=<version> to its assets;
    // the build is versioned as a whole, so the query is ignored.
    const hit = await caches.match(request, {cacheName: cacheOf(build), ignoreSearch: true});
    return hit ?? fetch(request);
  }
  // A new page, or one that has not said its build yet: the host's current build; offline, this one.
  try {
    return await fetch(request);
  } catch (error) {
    const hit = await caches.match(request, {cacheName: cacheOf(VERSION), ignoreSearch: true});
    if (!hit) throw error;
    if (request.mode === 'navigate' && event.resultingClientId) {
      event.waitUntil(rememberPage(event.resultingClientId, VERSION));
    }
    return hit;
  }
}

// --- Which build each open page runs ---------------------------------------------------------------

// As each page said (site_status.html). Stored in a cache, not only in memory: the browser stops this
// worker when it is idle, and an old tab may fetch again minutes later. The memory copy answers a
// page's first requests, which can come before the write has landed.
const pages = new Map();
const pageKey = (clientId) => new URL(`./atlas-page/${clientId}`, self.registration.scope).href;

async function rememberPage(clientId, build) {
  pages.set(clientId, build);
  await (await caches.open(PAGES)).put(pageKey(clientId), new Response(build));
}

async function pageBuild(clientId) {
  if (!pages.has(clientId)) {
    const stored = await caches.match(pageKey(clientId), {cacheName: PAGES});
    if (!stored) return null;
    pages.set(clientId, await stored.text());
  }
  return pages.get(clientId);
}

// --- Dropping builds that no tab runs any more -------------------------------------------------------

// Delete every build's cache that no open page or worker runs any more, and forget closed pages.
// Only the newest worker deletes: a cache that a newer one is still installing is used by no tab yet.
async function dropUnusedBuilds() {
  const open = await self.clients.matchAll({type: 'all', includeUncontrolled: true});
  const used = new Set([VERSION]);
  for (const client of open) {
    if (client.type !== 'window') {  // the Python worker names its build in its URL; others use none
      used.add(buildInUrl(client.url));
      continue;
    }
    const build = await pageBuild(client.id);
    if (build === null) return;  // a page that has not said its build may run any: keep them all
    used.add(build);
  }
  const openIds = new Set(open.map((client) => client.id));
  const stored = await caches.open(PAGES);
  for (const key of await stored.keys()) {
    const clientId = key.url.split('/').pop();
    if (!openIds.has(clientId)) {
      pages.delete(clientId);
      await stored.delete(key);
    }
  }
  const reg = self.registration;
  for (const name of await caches.keys()) {
    const newest = !reg.installing && !reg.waiting && reg.active === self.serviceWorker;
    if (newest && name.startsWith(PREFIX) && name !== PAGES && !used.has(name.slice(PREFIX.length))) {
      await caches.delete(name);
    }
  }
}
