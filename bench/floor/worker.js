// Served at /floor/; our build is mounted at /ours/ on the same bench server. Its runtime loader
// (checked and gzip-inflated runtime files) is the one part of our build the floor uses: without it
// the runtime cannot be read. It prefetches no wheels here: loadPackage fetches them as usual.
self.RUNTIME_DIR = new URL('../ours/pyodide/', self.location.href).href;
importScripts('../ours/pyodide/pyodide.js', '../ours/pyodide/runtime_fetch.js');
(async () => {
  try {
    await prepareRuntime(['pyodide.asm.wasm', 'python_stdlib.zip', 'pyodide-lock.json']);
    self.pyodide = await loadPyodide();
    await self.pyodide.loadPackage(['numpy', 'pandas', 'bokeh', 'holoviews', 'panel']);
    self.pyodide.runPython('import numpy, pandas, bokeh, holoviews, panel');
    postMessage('ready');
  } catch (e) {
    postMessage(`error: ${e}`);
  }
})();
