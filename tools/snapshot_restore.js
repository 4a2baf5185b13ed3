// --- Memory snapshot restore (inlined into main.js by tools/build_site/snapshot.py; DESIGN.md section 4) -------
// Boots Pyodide from the heap saved at build time (panel, bokeh, pandas, numpy and the app's modules
// imported, its data loaded, its first page built: takePrebuiltPage) instead of boot + loadPackage +
// import + the page's build, when the service worker's cache
// holds it (a returning visit). Otherwise, and on any failure, the normal boot (prepareRuntime,
// loadPyodide, loadPackage, as without a snapshot); a failure logs a console.warn saying why. Pinned to Pyodide 0.27.7: private loadPyodide options (_loadSnapshot, _snapshotDeserializer)
// and Emscripten's dynamic linker internals.
const SNAPSHOT_URL = "./pyodide/snapshot/";
const SNAPSHOT_BUILD_ID = "__SNAPSHOT_BUILD_ID__";  // filled in by tools/build_site/snapshot.py
const SNAPSHOT_INTEGRITY = __SNAPSHOT_INTEGRITY__;  // heap and files: a stale or damaged copy is refused
const SNAPSHOT_CACHE_PREFIX = "__CACHE_PREFIX__";  // + the build: that build's cache (tools/sw.js)
const SNAPSHOT_FILES = ["meta.json", "files.bin.gz", "heap.bin.gz"];
// What a restore needs of runtime_fetch.js's files (pyodide.asm.js: prepareRuntime fetches it
// itself). Not the boot's wheels: the heap has their modules, files.bin.gz their other files.
const SNAPSHOT_RUNTIME = ["pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"];
const SNAPSHOT_DIGESTS = {sha256: "SHA-256", sha384: "SHA-384", sha512: "SHA-512"};

const snapshotUrl = (file) => new URL(SNAPSHOT_URL + file, self.location.href).href;

// This build's service worker cache (the worker's URL names the build), or null.
async function snapshotCache() {
  const build = new URL(self.location.href).searchParams.get("atlas-build");
  const name = SNAPSHOT_CACHE_PREFIX + build;
  return build && self.caches && (await caches.has(name)) ? caches.open(name) : null;
}

// The snapshot's files as this build's service worker cache holds them ({name: Response}), or null.
// The service worker fetches them once a visit is live and idle (tools/sw.js), so a first visit
// never downloads them; read from the cache itself, never through fetch, so that a visit the
// service worker does not control (a forced reload) does not download them either.
async function cachedSnapshot() {
  const cache = await snapshotCache();
  if (cache === null) return null;
  const found = {};
  for (const file of SNAPSHOT_FILES) {
    found[file] = await cache.match(snapshotUrl(file));
    if (!found[file]) return null;
  }
  return found;
}

// The inflated body of a cached file, once its bytes are found to be this build's. A damaged copy
// is also deleted from the cache, so that the service worker fetches it again (tools/sw.js).
async function checkedGunzip(name, response) {
  const body = await response.arrayBuffer();
  const [algorithm, expected] = SNAPSHOT_INTEGRITY[name].split("-", 2);
  const digest = crypto.subtle.digest(SNAPSHOT_DIGESTS[algorithm], body);
  const stream = new Blob([body]).stream().pipeThrough(new DecompressionStream("gzip"));
  const inflated = new Response(stream).arrayBuffer();
  inflated.catch(() => {});  // a damaged file fails the hash check first
  if (btoa(String.fromCharCode(...new Uint8Array(await digest))) !== expected) {
    await (await snapshotCache())?.delete(snapshotUrl(name));
    throw new Error(`${name} is not this build's (damaged or stale)`);
  }
  return new Uint8Array(await inflated);
}

// files.bin: u32 header length, JSON {files: [[path, size], ...], link: how the .so were linked},
// then the bytes of each file in order.
function unpackFiles(bin) {
  const headerLength = new DataView(bin.buffer, bin.byteOffset, 4).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bin.subarray(4, 4 + headerLength)));
  const files = new Map();
  let offset = 4 + headerLength;
  for (const [path, size] of header.files) {
    files.set(path, bin.subarray(offset, offset + size));
    offset += size;
  }
  if (offset !== bin.length) throw new Error("files.bin is truncated");
  return {files, link: header.link};
}

// Runs after Emscripten made the module and before Pyodide copies the heap back: the file system
// and the side modules (.so) are JS-side state the heap does not hold.
async function restoreRuntimeState(Module, meta, link, files, compiled) {
  if (Module.wasmTable.length !== meta.bootTableLength) {
    throw new Error(`table has ${Module.wasmTable.length} slots at boot, snapshot expects ` +
                    `${meta.bootTableLength}`);
  }
  for (const [path, data] of files) {
    Module.FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
    Module.FS.writeFile(path, data, {canOwn: true});
  }
  // Each .so at the memory and table bases it had, in the same order: a dso handle whose byte +8
  // says "already allocated" and whose +12/+20 hold the bases. Scratch space at the top of memory
  // (the heap copy overwrites it).
  const handle = Module.HEAPU8.length - 64;
  for (const [i, lib] of link.libs.entries()) {
    Module.HEAPU8.fill(0, handle, handle + 64);
    Module.HEAPU8[handle + 8] = 1;
    Module.HEAPU32[(handle + 12) >> 2] = lib.memoryBase;
    Module.HEAPU32[(handle + 20) >> 2] = lib.tableBase;
    const localScope = lib.global ? null : {};
    const exports = await Module.loadWebAssemblyModule(
      compiled[i], {loadAsync: true, nodelete: true, allowUndefined: true, global: lib.global},
      lib.path, localScope, handle);
    if (lib.global) Module.mergeLibSymbols(exports, lib.path);
    const dso = Module.newDSO(lib.path, undefined, exports);
    dso.global = lib.global;
    for (const name of lib.names) Module.LDSO.loadedLibsByName[name] = dso;
    for (const h of lib.handles) Module.LDSO.loadedLibsByHandle[h] = dso;
  }
  // GOT entries and the table slots outside the .so ranges, exactly as they were.
  for (const [sym, value] of link.got) {
    if (!Module.GOT[sym]) Module.GOT[sym] = new WebAssembly.Global({value: "i32", mutable: true});
    Module.GOT[sym].value = value;
  }
  Module.reportUndefinedSymbols();
  if (Module.wasmTable.length < meta.tableLength) {
    Module.wasmTable.grow(meta.tableLength - Module.wasmTable.length);
  }
  for (const [i, lib, sym] of link.slots) {
    const f = Module.LDSO.loadedLibsByName[lib].exports[sym];
    Module.wasmTable.set(i, f);
    if (Module.wasmTableMirror) Module.wasmTableMirror[i] = undefined;
  }
  if (Module.wasmTable.length !== meta.tableLength) {
    throw new Error(`table has ${Module.wasmTable.length} slots, snapshot had ${meta.tableLength}`);
  }
}

async function restoreSnapshot(snapshot) {
  if (!self.DecompressionStream) throw new Error("no DecompressionStream in this browser");
  const t0 = performance.now();
  const filesPromise = checkedGunzip("files.bin.gz", snapshot["files.bin.gz"]);
  const heapPromise = checkedGunzip("heap.bin.gz", snapshot["heap.bin.gz"]);
  // Nothing may be left unhandled if one of them fails first.
  for (const p of [filesPromise, heapPromise]) p.catch(() => {});
  const meta = await snapshot["meta.json"].json();
  if (meta.format !== 1 || meta.buildId !== SNAPSHOT_BUILD_ID) {
    throw new Error(`snapshot made for another runtime (${meta.buildId})`);
  }
  const tMeta = performance.now();
  await prepareRuntime(SNAPSHOT_RUNTIME);  // runtime_fetch.js: checked, inflated, started now
  self.snapshotRuntimePrepared = true;
  // The runtime loadPyodide would load; ours is wrapped so the .so and files come back first.
  if (typeof _createPyodideModule !== "function") importScripts("./pyodide/pyodide.asm.js");
  // files.bin unpacked and its .so compiled while Pyodide compiles and instantiates its own module.
  let tFiles, tCompiled, tModule, tLinked, tHeap;
  const linking = filesPromise.then(async (bin) => {
    const {files, link} = unpackFiles(bin);
    tFiles = performance.now();
    const compiled = await Promise.all(link.libs.map((lib) => {
      if (!files.has(lib.path)) throw new Error(`${lib.path} is not in files.bin`);
      return WebAssembly.compile(files.get(lib.path));
    }));
    tCompiled = performance.now();
    return {files, link, compiled};
  });
  linking.catch(() => {});
  const createModule = globalThis._createPyodideModule;
  globalThis._createPyodideModule = async (settings) => {
    const Module = await createModule(settings);
    tModule = performance.now();
    const {files, link, compiled} = await linking;
    await restoreRuntimeState(Module, meta, link, files, compiled);
    tLinked = performance.now();
    await heapPromise;
    tHeap = performance.now();
    return Module;
  };
  let pyodide;
  try {
    pyodide = await loadPyodide({
      _loadSnapshot: heapPromise,
      // panel/io/pyodide.py holds a JS function made by run_js: it was saved as its source
      _snapshotDeserializer: (obj) => (0, eval)(`(${obj.jsFunction})`),
    });
  } finally {
    globalThis._createPyodideModule = createModule;
  }
  const {link} = await linking;
  Object.assign(pyodide.loadedPackages, link.loadedPackages);
  // New random state (the snapshot froze the build's), fresh import caches, and a quick check
  // that compiled code (numpy, pandas: .so side modules) runs before we commit to this runtime.
  pyodide.runPython(`
import importlib, random, numpy, pandas
importlib.invalidate_caches()
random.seed()
numpy.random.seed()
assert int(pandas.DataFrame({"a": numpy.arange(4)})["a"].sum()) == 6
`);
  const s = (t) => ((t - t0) / 1000).toFixed(2);
  console.log(`Restored the Python heap snapshot in ${s(performance.now())} s (meta ${s(tMeta)}, ` +
              `module ${s(tModule)}, files ${s(tFiles)}, .so compiled ${s(tCompiled)}, ` +
              `linked ${s(tLinked)}, heap read ${s(tHeap)})`);
  return pyodide;
}

// Replaces main.js's `await prepareRuntime(); self.pyodide = await loadPyodide();`. Sets
// self.pyodideRestored; when true, main.js skips its loadPackage (every boot package is in the heap).
async function loadPyodideFromSnapshot() {
  self.pyodideRestored = false;
  self.snapshotRuntimePrepared = false;
  const snapshot = await cachedSnapshot().catch(() => null);
  if (snapshot === null) {
    console.info("Python heap snapshot not cached (yet): booting normally");
  } else {
    try {
      const pyodide = await restoreSnapshot(snapshot);
      self.pyodideRestored = true;
      return pyodide;
    } catch (e) {
      console.warn(`Python heap snapshot not used, booting normally: ${e && e.message || e}`);
    }
  }
  if (self.snapshotRuntimePrepared) {
    // The runtime is already requested (and what the restore took is fetched again on demand):
    // request the rest of what prepareRuntime() requests, the boot's wheels.
    await prepareRuntime(Object.keys(RUNTIME_FILES)
      .filter((name) => name !== "pyodide.asm.js" && !SNAPSHOT_RUNTIME.includes(name)));
  } else {
    await prepareRuntime();
  }
  return await loadPyodide();
}
// After a restore: the page the build's make worker built into the heap (tools/build_site/snapshot.py,
// warm_up), as write_doc's [docs_json, render_items, root_ids], taken once; main.js sends it instead
// of building the page. Null in a worker that booted normally, which builds the page itself.
function takePrebuiltPage() {
  if (!self.pyodideRestored) return null;
  const scope = self.pyodide.toPy({});
  let page;
  try {
    page = self.pyodide.runPython(
      'import sys\npage = sys.modules.pop("__PREBUILT_PAGE__", None)\npage and page.doc_json',
      {globals: scope});
  } finally {
    scope.destroy();
  }
  if (!page) return null;
  console.log("Sending the page built into the Python heap snapshot");
  return page;
}
// --- end of memory snapshot restore ----------------------------------------------------------------
