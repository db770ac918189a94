/* Service worker of the interviewers' field form (scope /field/).
   Pages under /field/ are fetched from the network first and kept in the cache, so the
   last version opens without a network; the scripts and styles they use are cached when the
   worker installs. Only GET requests are touched: sync posts always go to the network. */
"use strict";
var CACHE = "survey-field-v1";
var SHELL = ["/static/public.css", "/static/public.js", "/static/field/field.css", "/static/field/field.js"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("message", function (event) {
  if (event.data === "claim") event.waitUntil(self.clients.claim());
});

function cacheable(url) {
  if (url.origin !== self.location.origin) return false;
  if (SHELL.indexOf(url.pathname) >= 0) return true;
  return url.pathname.indexOf("/field/") === 0 && url.pathname !== "/field/token" && url.pathname !== "/field/sw.js";
}

self.addEventListener("fetch", function (event) {
  var req = event.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (!cacheable(url)) return;
  event.respondWith(fetch(req).then(function (resp) {
    if (resp.ok && !resp.redirected && resp.type === "basic") {
      var copy = resp.clone();
      caches.open(CACHE).then(function (c) { return c.put(url.pathname, copy); });
    }
    return resp;
  }).catch(function () {
    return caches.match(url.pathname).then(function (hit) {
      return hit || new Response("<!doctype html><meta charset=utf-8><p>无网络，且此页尚未在本机缓存。</p>",
        { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
    });
  }));
});
