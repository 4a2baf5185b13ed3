// Build step (tools/build_site/snapshot.py): make the Pyodide memory snapshot in a dedicated worker, as the site
// runs. Boots ./pyodide/ through the site's runtime loader (runtime_fetch.js: the runtime ships
// gzipped) with _makeSnapshot, loads the boot's packages (the query's `packages`, what main.js
// loads) with loadPackage, imports the modules named in the query string, and PUTs heap, files and
// meta to the build server. Pinned to Pyodide 0.27.7 internals (Emscripten's dynamic linker);
// DESIGN.md section 4.
importScripts("./pyodide/pyodide.js", "./pyodide/runtime_fetch.js");
// Panel 1.9's `pyodide.ffi.jsnull` stand-in, the site worker's own (filled in by snapshot.py from
// tools/build_site/panel_patches.py).
const JSNULL_SHIM = __JSNULL_SHIM__;
// Python run after the imports: what the app's first run would do that is the same for every visitor
// (load its data, build and serialise a first page), so that a restored heap skips it too (filled in
// by snapshot.py: warm_up()).
const WARM_UP = __WARM_UP__;

// Every side module (.so) instantiated, in order, with the bases the linker gave it.
const sideModules = [];
function note(instance, imports) {
  if (imports && imports["GOT.mem"] && imports.env) {
    sideModules.push({instance, memoryBase: imports.env.__memory_base,
                      tableBase: imports.env.__table_base});
  }
}
const wasmInstantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async function (source, imports) {
  const result = await wasmInstantiate.apply(this, arguments);
  note(result.instance || result, imports);
  return result;
};
const WasmInstance = WebAssembly.Instance;
WebAssembly.Instance = function (module, imports) {
  const instance = new WasmInstance(module, imports);
  note(instance, imports);
  return instance;
};
WebAssembly.Instance.prototype = WasmInstance.prototype;

function listFiles(FS, dir, out) {
  for (const name of FS.readdir(dir)) {
    if (name === "." || name === "..") continue;
    const path = dir === "/" ? `/${name}` : `${dir}/${name}`;
    if (["/dev", "/proc", "/sys", "/tmp", "/lib/python312.zip"].includes(path)) continue;
    const stat = FS.lstat(path);
    if (FS.isDir(stat.mode)) listFiles(FS, path, out);
    else if (FS.isFile(stat.mode)) out.push(path);
  }
  return out;
}

async function put(name, body) {
  const response = await fetch(`./__snapshot_upload/${name}`, {method: "PUT", body});
  if (!response.ok) throw new Error(`upload of ${name}: HTTP ${response.status}`);
}

async function make() {
  const query = new URLSearchParams(location.search);
  const imports = query.get("imports").split(",");
  const optional = (query.get("optional") || "").split(",").filter(Boolean);
  const packages = query.get("packages").split(",");
  // The runtime only: the wheels are fetched by loadPackage below.
  await prepareRuntime(["pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"]);
  const pyodide = await loadPyodide({_makeSnapshot: true});
  const M = pyodide._module;
  const bootTableLength = M.wasmTable.length;
  const bootFiles = new Set(listFiles(pyodide.FS, "/", []));

  await pyodide.loadPackage(packages, {messageCallback: () => {}, checkIntegrity: true});
  const t0 = performance.now();
  // Same settings as the worker's prelude, except PANEL_CDN_ROOT: Panel bakes it into module
  // constants at import, so it must not be this server's URL. "./panel/" resolves against the page,
  // which sits next to panel/ (the build-time pre-render uses the same value).
  // Run in a namespace of its own: __main__ stays as a fresh boot leaves it. Async: the warm-up
  // awaits (Panel's write_doc); the rest runs as it would synchronously.
  const run = async (code) => {
    const namespace = pyodide.globals.get("dict")();
    try {
      const result = await pyodide.runPythonAsync(code, {globals: namespace});
      const value = result && result.toJs ? result.toJs() : result;
      if (result && result.destroy) result.destroy();
      return value;
    } finally {
      namespace.destroy();
    }
  };
  const skippedImports = await run(`
import os, importlib, pyodide.ffi
os.environ["PANEL_CDN_ROOT"] = "./panel/"
os.environ["CLIMATE_ATLAS_TARGET"] = "browser"
${JSNULL_SHIM}for name in ${JSON.stringify(imports)}:
    importlib.import_module(name)
skipped = []
for name in ${JSON.stringify(optional)}:
    try:
        importlib.import_module(name)
    except ImportError:
        skipped.append(name)
skipped
`);
  await run(WARM_UP);
  await run("import gc\ngc.collect()");
  const importSeconds = (performance.now() - t0) / 1000;
  const modules = await run("import sys; sorted(sys.modules)");
  // Freed memory still holds what the imports and the data left there, which gzip cannot squeeze:
  // Python takes zeroed blocks in every free chunk it can without growing the heap, then frees them.
  self.heapTop = () => M._sbrk(0);
  const zeroed = await run(`
import gc
from js import heapTop
top, held = heapTop(), []
for size in (1 << 20, 1 << 16, 1 << 12, 1 << 10):
    while True:
        block = bytearray(size)
        if heapTop() != top:
            break
        held.append(block)
    del block
zeroed = sum(map(len, held))
del held
gc.collect()
zeroed
`);
  const keepSources = query.get("keep_sources") === "1";
  // Modules already imported live in the heap as code objects: skip their files (.pyc, or .py where
  // one did not compile; a later import of an un-imported module still finds its file).
  const imported = new Set(keepSources ? [] : await run(`
import sys
sorted({m.__file__ for m in list(sys.modules.values())
        if (getattr(m, "__file__", None) or "").endswith((".py", ".pyc"))
        and "/site-packages/" in m.__file__})
`));

  // Name each recorded side module by the linker's table of loaded libraries.
  const dsoOf = new Map();  // exported function -> dso
  for (const dso of Object.values(M.LDSO.loadedLibsByName)) {
    if (!dso.exports || dso.name === "__main__") continue;
    for (const value of Object.values(dso.exports)) if (typeof value === "function") dsoOf.set(value, dso);
  }
  const libs = sideModules.map(({instance, memoryBase, tableBase}) => {
    const dso = Object.values(instance.exports).map((f) => dsoOf.get(f)).find(Boolean);
    if (!dso) throw new Error(`side module at table base ${tableBase} is not in LDSO`);
    const names = Object.entries(M.LDSO.loadedLibsByName).filter(([, d]) => d === dso).map(([n]) => n);
    const handles = Object.entries(M.LDSO.loadedLibsByHandle).filter(([, d]) => d === dso)
      .map(([h]) => Number(h));
    const path = names.find((n) => n.startsWith("/"));
    if (!path) throw new Error(`no absolute path for side module ${names}`);
    const meta = M.getDylinkMetadata(pyodide.FS.readFile(path));
    return {path, names, handles, global: !!dso.global, memoryBase, tableBase,
            tableSize: meta.tableSize};
  });
  // Table slots outside the side modules' own ranges (GOT.func and dlsym entries): name each one.
  const slotName = new Map();
  for (const [name, dso] of Object.entries(M.LDSO.loadedLibsByName)) {
    if (!name.startsWith("/") && name !== "__main__") continue;
    for (const [sym, value] of Object.entries(dso.exports || {})) {
      if (typeof value === "function" && !slotName.has(value)) slotName.set(value, [name, sym]);
    }
  }
  const inLib = (i) => libs.some((l) => i >= l.tableBase && i < l.tableBase + l.tableSize);
  const slots = [];
  for (let i = bootTableLength; i < M.wasmTable.length; i++) {
    if (inLib(i)) continue;
    const f = M.wasmTable.get(i);
    if (f === null) continue;
    const name = slotName.get(f);
    if (!name) throw new Error(`table slot ${i} holds a function of no known library`);
    slots.push([i, ...name]);
  }

  // Files: everything not there at boot (the installed packages), minus imported modules and what
  // nothing reads at run time (tests, type stubs, C headers).
  const unread = /\/tests\/|\.(pyi|h|c|pxd|pyx)$/;
  const paths = listFiles(pyodide.FS, "/", [])
    .filter((p) => !bootFiles.has(p) && !imported.has(p) && !unread.test(p));
  const link = {libs, slots, loadedPackages: {...pyodide.loadedPackages},
                got: Object.entries(M.GOT).filter(([, g]) => g.value !== 0).map(([s, g]) => [s, g.value])};
  const index = [];
  const chunks = [];
  let size = 0;
  for (const path of paths) {
    const data = pyodide.FS.readFile(path);
    index.push([path, data.length]);
    chunks.push(data);
    size += data.length;
  }
  // files.bin: u32 length of a JSON header {files: [[path, size]...], link}, then the file bytes
  const header = new TextEncoder().encode(JSON.stringify({files: index, link}));
  const files = new Uint8Array(4 + header.length + size);
  new DataView(files.buffer).setUint32(0, header.length, true);
  files.set(header, 4);
  let offset = 4 + header.length;
  for (const c of chunks) { files.set(c, offset); offset += c.length; }

  // makeMemorySnapshot refuses while loadedPackages has entries (hiwire check): empty it meanwhile.
  const loadedPackages = {...pyodide.loadedPackages};
  for (const k of Object.keys(pyodide.loadedPackages)) delete pyodide.loadedPackages[k];
  const serializer = (obj) => {
    // panel/io/pyodide.py holds a function made by run_js: store its source
    if (typeof obj === "function" && !/\[native code\]\s*\}$/.test(String(obj))) {
      return {jsFunction: String(obj)};
    }
    throw new Error(`cannot serialize ${Object.prototype.toString.call(obj)}: ${String(obj).slice(0, 200)}`);
  };
  const heap = pyodide.makeMemorySnapshot({serializer});
  Object.assign(pyodide.loadedPackages, loadedPackages);

  const meta = {
    pyodideVersion: pyodide.version, bootTableLength, tableLength: M.wasmTable.length,
    heapBytes: heap.length, filesBytes: files.length, fileCount: index.length,
    droppedSources: imported.size, modules: modules.length, imports, optional, skippedImports,
    importSeconds, zeroedBytes: zeroed,
    sideModules: libs.length, extraTableSlots: slots.length,
  };
  await put("heap.bin", heap);
  await put("files.bin", files);
  await put("meta.json", JSON.stringify(meta));
  await put("modules.json", JSON.stringify(modules));
  return {libs: libs.length, slots: slots.length, heap: heap.length, files: files.length};
}

make().then((r) => put("done.json", JSON.stringify(r)),
             (e) => put("error.txt", `${e}\n${e.stack || ""}`));
