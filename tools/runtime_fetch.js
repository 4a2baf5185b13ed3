// Written by tools/build_site/ (runtime_pack.py) as pyodide/runtime_fetch.js, loaded by the worker right after
// pyodide.js (the benchmark's floor page loads it too, with RUNTIME_DIR set). Every runtime file is checked against an integrity hash written at
// build time, and the two large text-like ones ship gzip-compressed (pyodide.asm.wasm 10.1 MB,
// pyodide.asm.js 1.3 MB), inflated here by the browser's DecompressionStream. They are named .gzip,
// not .gz: some servers label .gz files with Content-Encoding, and the browser would inflate them
// before this code (and the hash check) saw them. All four downloads start at once, before Pyodide
// asks for them one after another.
const RUNTIME_FILES = __RUNTIME_FILES__;  // name Pyodide asks for -> {file, integrity, type?}
const RUNTIME_DIR = self.RUNTIME_DIR || new URL('./pyodide/', self.location.href).href;
const plainFetch = self.fetch.bind(self);
const started = {};

function fetchRuntimeFile(name) {
  const entry = RUNTIME_FILES[name];
  return plainFetch(new URL(entry.file, RUNTIME_DIR), {integrity: entry.integrity})
    .then((response) => (!response.ok || !entry.type) ? response : new Response(
      response.body.pipeThrough(new DecompressionStream('gzip')),
      {headers: {'Content-Type': entry.type}}));
}

self.fetch = (resource, init) => {
  const url = new URL(resource instanceof Request ? resource.url : resource, self.location.href);
  const name = url.href.startsWith(RUNTIME_DIR) && url.href.slice(RUNTIME_DIR.length);
  if (!(name in RUNTIME_FILES)) return plainFetch(resource, init);
  const response = started[name] || fetchRuntimeFile(name);
  delete started[name];  // a body is read once; a second request fetches again
  return response;
};

// pyodide.asm.js arrives through importScripts, which can neither check a hash nor inflate: fetch
// it like the others and hand importScripts the checked text as a blob URL. `prefetch`: the names
// to request now (default: all, the boot's wheels included).
async function prepareRuntime(prefetch = Object.keys(RUNTIME_FILES)) {
  for (const name of prefetch) started[name] = fetchRuntimeFile(name);
  const script = await self.fetch(new URL('pyodide.asm.js', RUNTIME_DIR));
  if (!script.ok) throw new Error(`Failed to load 'pyodide.asm.js': HTTP ${script.status}`);
  const blob = URL.createObjectURL(new Blob([await script.arrayBuffer()], {type: 'text/javascript'}));
  const plainImport = self.importScripts.bind(self);
  const asmURL = new URL('pyodide.asm.js', RUNTIME_DIR).href;
  self.importScripts = (...urls) => plainImport(
    ...urls.map((u) => (new URL(u, self.location.href).href === asmURL ? blob : u)));
}
