// Served at /floor/; our build is mounted at /ours/ on the same bench server.
importScripts('../ours/pyodide/pyodide.js');
(async () => {
  try {
    self.pyodide = await loadPyodide();
    await self.pyodide.loadPackage(['numpy', 'pandas', 'bokeh', 'holoviews', 'panel']);
    self.pyodide.runPython('import numpy, pandas, bokeh, holoviews, panel');
    postMessage('ready');
  } catch (e) {
    postMessage(`error: ${e}`);
  }
})();
