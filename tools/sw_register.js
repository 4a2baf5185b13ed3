// The page's first script (added to <head> by tools/build_site/, page.py): registers the service worker
// (tools/sw.js) before the page fetches anything else, so that on a first visit it takes over while
// the page and its Python worker are still downloading and keeps each file as it passes. And tells
// it, whenever one controls this page, which build the page runs: it serves each page its own
// build's files, and keeps a build's cache while a page runs it.
if ('serviceWorker' in navigator) {
  const sw = navigator.serviceWorker;
  const build = document.querySelector('meta[name="atlas-build"]').content;
  const announce = () => sw.controller && sw.controller.postMessage({type: 'atlas-build', build});
  announce();
  sw.addEventListener('controllerchange', announce);
  sw.register('./sw.js').catch(() => {});  // without it the site works as before, only not offline
}
