// The page's second script (added to <head> by tools/build_site/, page.py): the one place that starts
// the Python worker, as ./main.js?atlas-build=<build> (tools/sw.js serves each tab its own build's
// files by that name). Panel's bridge (in js/page-<digest>.js) calls `atlasWorker.take()` where it
// made its own worker. On a returning visit, one the site's service worker already controls (its
// build's files come from its cache, and the heap snapshot once it is kept:
// tools/snapshot_restore.js), the worker starts now, while BokehJS loads and draws the pre-render,
// instead of once BokehJS has run; its messages are held until the bridge takes it, then delivered in
// order; so is an error loading it, which the status line reports (tools/site_status.html). A first
// visit keeps the later start: there the worker's downloads and wasm compile would compete with
// BokehJS's start, and the map was drawn about half a second later (scripts.py).
(() => {
  const start = () => new Worker(
    './main.js?atlas-build=' + document.querySelector('meta[name="atlas-build"]').content);
  if (!('serviceWorker' in navigator && navigator.serviceWorker.controller)) {
    window.atlasWorker = {early: false, take: start};
    return;
  }
  const worker = start();
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
    early: true,
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
})();
