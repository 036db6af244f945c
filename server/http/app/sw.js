// The app's service worker: keeps the app's own files so it opens with no
// network. Answers from what it keeps at once and refreshes it behind (a slow
// village link never holds the screen up); a new ocopd brings a new app at the
// next opening. The API (/v1/...) always goes to the network: the page keeps
// records and definitions itself, in IndexedDB.
'use strict';
const KEPT = 'ocop-app-2';
const FILES = ['/app/', '/app/app.js', '/app/app.css', '/app/ocop.js', '/app/ocop.css', '/app/manifest.webmanifest',
  '/app/icon-192.png', '/app/icon-512.png', '/app/app_core.js', '/app/app_core.wasm'];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(KEPT).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n !== KEPT).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith('/app/')) return;
  const key = url.pathname === '/app/index.html' ? '/app/' : url.pathname;
  e.respondWith(caches.open(KEPT).then(async (cache) => {
    const kept = await cache.match(key);
    const fresh = fetch(e.request).then((resp) => {
      if (resp.ok) cache.put(key, resp.clone());
      return resp;
    });
    if (kept) {
      e.waitUntil(fresh.catch(() => null));
      return kept;
    }
    return fresh;
  }));
});
