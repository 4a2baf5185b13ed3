// Service worker added by tools/build_site/ (service_worker.py). The page registers it as it starts
// (tools/sw_register.js) and it takes over at once: each file of this build the visit fetches is kept
// as it passes, once its bytes match the build's integrity, so a first visit sends every file over
// the network once. Once Python is live and the page idle, the page asks for the rest (site_status.html):
// what the visit fetched before this worker took over comes from the HTTP cache (`force-cache`), the
// rest (HoloViews, the other indicators) from the network at low priority. Later visits load from
// this cache, offline too; only the page itself is asked of the network first, so that a new tab
// gets the build the host serves now. Every build has a cache of its own, and a tab is served the
// build it opened with until it reloads, also after a redeploy: a tab fetches files long after it
// started (the scatter's HoloViews wheel, which Pyodide checks against the lock it booted with;
// Panel's CSS). A redeploy changes few files: a file whose bytes an older build's cache holds is
// copied from there instead of crossing the network again, so the newest older cache is dropped
// only once this build's is whole.
const VERSION = '__VERSION__';  // this build's name: a digest of its files
const FILES = __FILES__;  // every file of the build, relative to this script -> its integrity (SRI)
// Files no visit fetches, only the next one: the Python heap snapshot (tools/snapshot_restore.js
// reads it from this cache). Fetched last, once everything else is cached.
const LATER = __LATER__;
const PREFIX = '__CACHE_PREFIX__';  // + a build's name: that build's cache
const cacheOf = (build) => PREFIX + build;
const PAGES = `${PREFIX}pages`;  // not a build: which build each open page runs, as it said

// A file's key: its absolute URL without query (Panel adds ?v=<version> to its assets; the build is
// versioned as a whole, so the query is ignored).
const keyOf = (url) => {
  const parsed = new URL(url, self.location.href);
  parsed.search = parsed.hash = '';
  return parsed.href;
};
const INTEGRITY = new Map(Object.entries(FILES).map(([url, integrity]) => [keyOf(url), integrity]));
const LATER_KEYS = new Set(LATER.map(keyOf));
// Where the browser has held another build, a build file comes from the host, never as that build's
// copy from the browser's HTTP cache: an ordinary host sends Last-Modified and no Cache-Control, so
// the browser may take its copy of a file that a redeploy changed under the same name (the app's
// wheel, the lock) as fresh for a tenth of its age and return it without asking. Asking costs a
// 304 when the copy is right; a first visit does not ask (the page's early downloads are reused).
const REVALIDATE = {cache: 'no-cache'};

self.addEventListener('install', (event) => {
  // Nothing to download here: the files are kept as the page fetches them, the rest once it is idle.
  event.waitUntil(caches.open(cacheOf(VERSION)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  // Taking over open tabs at once is safe: each keeps its own build (buildOf). On a first visit it
  // is what lets this worker see the page's downloads. Tabs of another build are told that this one
  // is newer (site_status.html offers a reload).
  event.waitUntil(self.clients.claim().then(dropUnusedBuilds).then(async () => {
    for (const client of await self.clients.matchAll({type: 'window'})) {  // this site's tabs
      client.postMessage({type: 'atlas-build', build: VERSION});
    }
  }));
});

self.addEventListener('message', (event) => {
  if (!(event.source instanceof WindowClient)) return;
  const {type, build} = event.data ?? {};
  if (type === 'atlas-build') {  // a page says which build it runs (sw_register.js)
    event.waitUntil(rememberPage(event.source.id, String(build)).then(dropUnusedBuilds));
  } else if (type === 'atlas-fill' && build === VERSION) {  // a page of this build is idle
    // By now the page a reload replaced is gone, and with it, maybe, the last page of an older build.
    // Older builds' caches are dropped once this one is whole: it copies what they hold of it.
    const page = event.source;
    event.waitUntil(fill(event.data.urls ?? []).then(dropUnusedBuilds).then(
      () => page.postMessage({type: 'atlas-cached', build: VERSION}),
      (error) => {  // the page says so (site_status.html); the next visit tries again
        console.warn(`The atlas is not cached for offline use: ${error}`);
        page.postMessage({type: 'atlas-not-cached', build: VERSION, file: error.file ?? null});
      }));
  }
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
  if (build !== null && build !== VERSION) {
    // Another build's tab: its cache, else the network, never stored (the host serves another
    // build by now, or this one, whose cache is this worker's own). A script the tab asks for with
    // this build's integrity has this build's bytes.
    const hit = await caches.match(request, {cacheName: cacheOf(build), ignoreSearch: true})
      ?? (request.integrity && request.integrity === INTEGRITY.get(keyOf(request.url))
        ? await caches.match(request, {cacheName: cacheOf(VERSION), ignoreSearch: true}) : undefined);
    return hit ?? fetch(request, REVALIDATE);
  }
  if (build === VERSION) {
    const hit = await caches.match(request, {cacheName: cacheOf(VERSION), ignoreSearch: true});
    return hit ?? fetchAndKeep(event);
  }
  // A new page, or one that has not said its build yet: the host's current build; offline, this one.
  try {
    return await (request.mode === 'navigate' ? fetchPage(request) : fetchAndKeep(event));
  } catch (error) {
    const hit = await caches.match(request, {cacheName: cacheOf(VERSION), ignoreSearch: true});
    if (!hit) throw error;
    if (request.mode === 'navigate' && event.resultingClientId) {
      event.waitUntil(rememberPage(event.resultingClientId, VERSION));
    }
    return hit;
  }
}

// The page from the host, revalidated: the browser's HTTP cache may deem an older build's page fresh
// (REVALIDATE), and a new tab would then start that build. A navigation's own request cannot be
// given another cache mode, hence a new one, which keeps its redirect mode (a redirect is the page's).
function fetchPage(request) {
  return fetch(new Request(request.url, {...REVALIDATE, redirect: 'manual', headers: request.headers,
                                         credentials: request.credentials}));
}

// --- Keeping this build's files -----------------------------------------------------------------

const keeping = new Map();  // key -> a promise that settles once its response is kept (or refused)

// The network's answer, also kept in this build's cache if its bytes are this build's. A request for
// a file that is already on its way (Panel's stylesheets, asked for by each component) waits for it.
async function fetchAndKeep(event) {
  const request = event.request;
  const key = keyOf(request.url);
  const integrity = INTEGRITY.get(key);
  if (!integrity || request.headers.has('range')) return fetch(request);
  if (keeping.has(key)) {
    await keeping.get(key);
    const hit = await caches.match(key, {cacheName: cacheOf(VERSION)});
    if (hit) return hit;
  }
  const others = await otherBuilds();
  const copied = await keptElsewhere(key, integrity, others);
  if (copied) return copied;
  const response = await fetch(request, others.length ? REVALIDATE : {});
  if (response.status === 200 && response.type === 'basic' && !keeping.has(key)) {
    const kept = keep(key, response.clone(), integrity).finally(() => keeping.delete(key));
    keeping.set(key, kept);
    event.waitUntil(kept);
  }
  return response;
}

const DIGESTS = {sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512'};

// Store `response` as `key` if its body matches `integrity` (the build's SRI value): a file the host
// already serves for another build (a redeploy during the visit) never enters this build's cache.
// Whether it was stored.
async function keep(key, response, integrity) {
  try {
    const [algorithm, expected] = integrity.split('-', 2);
    const body = await response.arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest(DIGESTS[algorithm], body));
    if (btoa(String.fromCharCode(...digest)) !== expected) return false;
    const cache = await caches.open(cacheOf(VERSION));
    await cache.put(key, new Response(body, {status: 200, headers: response.headers}));
    return true;
  } catch (error) {
    console.warn(`Not kept for offline use: ${key}: ${error}`);
    return false;
  }
}

// The caches of the other builds this browser holds.
async function otherBuilds() {
  return (await caches.keys()).filter(
    (name) => name.startsWith(PREFIX) && name !== PAGES && name !== cacheOf(VERSION));
}

// `key` from another build's cache (`others`) that holds this build's bytes for it (checked against
// `integrity`), once copied into this build's cache; else null.
async function keptElsewhere(key, integrity, others) {
  for (const name of others) {
    const hit = await caches.match(key, {cacheName: name});
    if (hit && await keep(key, hit, integrity)) {
      return (await caches.match(key, {cacheName: cacheOf(VERSION)})) ?? null;
    }
  }
  return null;
}

// Fetch what this build's cache still lacks, LATER last: copied from another build's cache where
// that holds the same bytes, else the HTTP cache's copy, else the network. `urls`: what the page
// fetched, as it asked for it (with the query): the HTTP cache holds a file the visit fetched before
// this worker took over under that URL, so it is found there instead of crossing the network again.
// Files with the same bytes ("./" and "./index.html") are fetched once. Rejects if a file is not
// this build's.
let filling = null;

function fill(urls) {
  filling ??= fillMissing(urls).finally(() => { filling = null; });
  return filling;
}

async function fillMissing(urls) {
  await Promise.allSettled(keeping.values());
  const cache = await caches.open(cacheOf(VERSION));
  const have = new Set((await cache.keys()).map((request) => request.url));
  const asked = new Map();
  for (const url of urls) {
    if (new URL(url, self.location.href).origin !== self.location.origin) continue;
    const key = keyOf(url);
    if (INTEGRITY.has(key) && !asked.has(key)) asked.set(key, url);
  }
  const byIntegrity = new Map();  // integrity -> [keys], in the build's order
  for (const [key, integrity] of INTEGRITY) {
    byIntegrity.set(integrity, [...(byIntegrity.get(integrity) ?? []), key]);
  }
  const missing = [...byIntegrity].filter(([, keys]) => keys.some((key) => !have.has(key)));
  const others = await otherBuilds();
  const one = async ([integrity, keys]) => {
    const source = keys.find((key) => have.has(key));
    let response;
    if (source) {
      response = await cache.match(source);
    } else if (await keptElsewhere(keys[0], integrity, others)) {
      have.add(keys[0]);
      response = await cache.match(keys[0]);
    } else {
      // The HTTP cache's copy if it has this build's bytes (the browser checks `integrity`), else
      // the host's (an older build's copy of the same name is refused).
      const url = keys.map((key) => asked.get(key)).find(Boolean) ?? keys[0];
      const get = (mode) => fetch(url, {cache: mode, integrity, priority: 'low'});
      response = await get('force-cache').catch(() => get('no-cache')).catch((error) => {
        throw Object.assign(new Error(`${url}: not served, or not this build's bytes (${error})`),
                            {file: new URL(url, self.location.href).pathname});
      });
    }
    const body = await response.arrayBuffer();
    for (const key of keys.filter((k) => !have.has(k))) {
      await cache.put(key, new Response(body, {status: 200, headers: response.headers}));
    }
  };
  const later = ([, keys]) => keys.some((key) => LATER_KEYS.has(key));
  for (const todo of [missing.filter((f) => !later(f)), missing.filter(later)]) {
    await Promise.all(Array.from({length: 3}, async () => {  // a few at a time, like a page would
      while (todo.length) await one(todo.shift());
    }));
  }
}

// --- Which build each open page runs ---------------------------------------------------------------

// As each page said (sw_register.js). Stored in a cache, not only in memory: the browser stops this
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
  // Until this build's cache is whole, the newest other build's may still hold files it lacks
  // (keptElsewhere): that one is kept until then, never more than one.
  const whole = (await (await caches.open(cacheOf(VERSION))).keys()).length >= INTEGRITY.size;
  const spare = whole ? undefined : (await otherBuilds()).pop();  // caches.keys(): oldest first
  const reg = self.registration;
  for (const name of await caches.keys()) {
    const newest = !reg.installing && !reg.waiting && reg.active === self.serviceWorker;
    if (newest && name.startsWith(PREFIX) && name !== PAGES && name !== spare
        && !used.has(name.slice(PREFIX.length))) {
      await caches.delete(name);
    }
  }
}
