// The page's second script (added to <head> by tools/build_site/, page.py). On a returning visit, one
// the site's service worker already controls (its build's files come from its cache, and the heap
// snapshot once it is kept: tools/snapshot_restore.js), the Python worker starts now, while BokehJS
// loads and draws the pre-render, instead of once BokehJS has run. Its messages are held until the
// page's half of the worker (Panel's bridge, in js/page-<digest>.js) takes it, then delivered in
// order; so is an error loading it, which the status line reports (tools/site_status.html). A first
// visit keeps the later start: there the worker's downloads and wasm compile would compete with
// BokehJS's start, and the map was drawn about half a second later (scripts.py).
if ('serviceWorker' in navigator && navigator.serviceWorker.controller) {
  const build = document.querySelector('meta[name="atlas-build"]').content;
  const worker = new Worker('./main.js?atlas-build=' + build);
  let held = [];  // messages, and a load error the status line must still report
  const hold = (event) => {  // the first listener of each kind: it runs before the bridge's
    if (held === null) return;
    held.push(event.type === 'message' ? new MessageEvent('message', {data: event.data})
      : new ErrorEvent('error', {message: event.message, filename: event.filename,
                                 lineno: event.lineno, colno: event.colno}));
    event.stopImmediatePropagation();
  };
  worker.addEventListener('message', hold);
  worker.addEventListener('error', hold);
  window.atlasWorker = {
    take() {
      // The bridge and the status line start listening in the same script, synchronously: deliver
      // what was held once that script has run, before anything that arrives later.
      setTimeout(() => {
        const events = held;
        held = null;
        for (const event of events) worker.dispatchEvent(event);
      }, 0);
      return worker;
    },
  };
}
