/* The interviewer's field form: works offline once loaded.
   - registers /field/sw.js, which keeps the pages and scripts on the device;
   - every interview draft gets a UUID when it is created (crypto.randomUUID) and is kept in
     IndexedDB with its answers, so a reload or a second tab resumes the same draft;
   - finished interviews and contact outcomes queue in IndexedDB and are sent to
     /field/sync when the network is there; the server answers which UUIDs it stored now
     and which it had already, and both are marked synced (a retry stores nothing twice).
   Plain JavaScript, no libraries. */
(function () {
  "use strict";
  var root = document.getElementById("field");
  if (!root) return;
  var swStatus = document.getElementById("sw-status");

  /* Offline: the worker caches the pages it serves; this page was loaded before the worker
     controlled it, so it is put into the worker's cache here. data-offline="ready" once the
     page opens without a network. */
  function ready() {
    if (!navigator.serviceWorker.controller) {
      show(swStatus, "离线缓存正在准备…");
      return;
    }
    caches.open("survey-field-v1").then(function (c) { return c.add(location.pathname); }).then(function () {
      root.setAttribute("data-offline", "ready");
      show(swStatus, "已可离线使用：断网后仍可打开本页并记录访问。");
    }).catch(function () { show(swStatus, "离线缓存失败，请联网后刷新本页。"); });
  }
  if ("serviceWorker" in navigator && window.caches) {
    navigator.serviceWorker.addEventListener("controllerchange", ready);
    navigator.serviceWorker.register(root.getAttribute("data-sw"), { scope: root.getAttribute("data-scope") })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (reg) {
        // A page that opened while the worker was still installing is not controlled yet:
        // ask the worker to take it over (controllerchange then calls ready()).
        if (!navigator.serviceWorker.controller && reg.active) reg.active.postMessage("claim");
        ready();
      })
      .catch(function () { show(swStatus, "此浏览器无法离线使用本页。"); });
  } else {
    show(swStatus, "此浏览器不支持离线使用。");
  }

  function show(el, text) { if (el) el.textContent = text; }

  var bar = document.getElementById("fieldbar");
  if (!bar) return;
  var form = document.getElementById("qform");
  var planId = Number(bar.getAttribute("data-plan"));
  var unitSel = document.getElementById("unit");
  var modeSel = document.getElementById("mode");
  var draft = null;

  /* ---- IndexedDB: one store of records keyed by UUID ---- */
  var dbPromise = new Promise(function (resolve, reject) {
    var req = indexedDB.open("survey-field", 1);
    req.onupgradeneeded = function () { req.result.createObjectStore("records", { keyPath: "uuid" }); };
    req.onsuccess = function () { resolve(req.result); };
    req.onerror = function () { reject(req.error); };
  });
  function store(mode, fn) {
    return dbPromise.then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction("records", mode);
        var result = fn(t.objectStore("records"));
        t.oncomplete = function () { resolve(result && "result" in result ? result.result : result); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function put(rec) { return store("readwrite", function (s) { return s.put(rec); }); }
  function get(id) { return store("readonly", function (s) { return s.get(id); }); }
  function all() { return store("readonly", function (s) { return s.getAll(); }); }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = [].map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function now() { return new Date().toISOString(); }

  /* ---- the draft: created with its UUID, resumed from ?draft= ---- */
  function pairs() {
    var out = [];
    new FormData(form).forEach(function (v, k) { if (typeof v === "string" && v !== "") out.push([k, v]); });
    return out;
  }
  function fill(saved) {
    form.reset();
    (saved || []).forEach(function (p) {
      [].forEach.call(form.querySelectorAll('[name="' + p[0] + '"]'), function (el) {
        if (el.type === "radio" || el.type === "checkbox") { if (el.value === p[1]) el.checked = true; }
        else el.value = p[1];
      });
    });
    form.dispatchEvent(new Event("change"));
  }
  function useDraft(rec) {
    draft = rec;
    var url = new URL(location.href);
    url.searchParams.set("draft", rec.uuid);
    history.replaceState(null, "", url.pathname + url.search);
    var label = document.getElementById("draft-id");
    label.setAttribute("data-draft", rec.uuid);
    label.textContent = "本份问卷编号：" + rec.uuid.slice(0, 8);
    if (rec.unit_id) unitSel.value = String(rec.unit_id);
    if (rec.mode) modeSel.value = rec.mode;
    fill(rec.answers);
  }
  function newDraft() {
    var rec = { uuid: uuid(), plan_id: planId, status: "draft", started_at: now(), answers: [] };
    return put(rec).then(function () { useDraft(rec); });
  }
  function openDraft() {
    var wanted = new URL(location.href).searchParams.get("draft");
    if (!wanted) return newDraft();
    return get(wanted).then(function (rec) {
      if (rec && rec.status === "draft") useDraft(rec); else return newDraft();
    });
  }
  function saveDraft() {
    if (!draft) return;
    draft.answers = pairs(); draft.unit_id = Number(unitSel.value); draft.mode = modeSel.value;
    var copy = draft;
    // Read and write in one transaction: transactions on the store run in the order they
    // were created, so a draft finished (here or in another tab) is never set back.
    return store("readwrite", function (s) {
      s.get(copy.uuid).onsuccess = function (ev) {
        var rec = ev.target.result;
        if (!rec || rec.status === "draft") s.put(copy);
      };
    });
  }
  form.addEventListener("change", saveDraft);
  form.addEventListener("input", saveDraft);

  /* ---- finishing: queue the interview or the contact outcome ---- */
  function queue(rec) {
    rec.status = "queued"; rec.finished_at = now();
    rec.unit_id = Number(unitSel.value); rec.mode = modeSel.value;
    // The next draft does not wait for the network: the sync runs in the background.
    return put(rec).then(refreshCounts).then(function () { sync(); });
  }
  function finish(disposition) {
    if (!draft) return;
    var rec = { uuid: draft.uuid, plan_id: planId, started_at: draft.started_at,
      answers: pairs(), disposition: disposition };
    draft = null;  // no more draft saves until the next draft exists
    return queue(rec).then(newDraft).then(function () {
      window.scrollTo(0, 0);
      var b = form.querySelector("button[type=submit]");
      b.disabled = false; b.textContent = "完成访问并保存";
    });
  }
  form.addEventListener("submit", function (ev) {
    if (ev.defaultPrevented) return;  // public.js found a required question unanswered
    ev.preventDefault();
    finish("complete");
  });
  document.getElementById("save-partial").addEventListener("click", function () { finish("partial"); });
  [].forEach.call(document.querySelectorAll("button.outcome"), function (b) {
    b.addEventListener("click", function () {
      queue({ uuid: uuid(), plan_id: planId, started_at: now(), answers: [],
        disposition: b.getAttribute("data-disposition") });
    });
  });

  /* ---- sync ---- */
  function refreshCounts() {
    return all().then(function (recs) {
      var queued = recs.filter(function (r) { return r.status === "queued"; }).length;
      var synced = recs.filter(function (r) { return r.status === "synced"; }).length;
      var el = document.getElementById("queue-status");
      el.textContent = "待同步 " + queued + " 条 · 已同步 " + synced + " 条";
      el.setAttribute("data-queued", String(queued));
      el.setAttribute("data-synced", String(synced));
      return recs;
    });
  }
  function payload(r) {
    return { uuid: r.uuid, unit_id: r.unit_id, mode: r.mode, disposition: r.disposition,
      started_at: r.started_at, finished_at: r.finished_at, answers: r.answers || [] };
  }
  var syncing = null;
  function sync() {
    if (syncing) return syncing;
    var progress = false;
    syncing = all().then(function (recs) {
      var queued = recs.filter(function (r) { return r.status === "queued"; });
      if (!queued.length) return null;
      return fetch(bar.getAttribute("data-token"), { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (t) { return sendBatches(queued, t.csrf, { stored: 0, already: 0 }); });
    }).then(function (done) {
      if (done) {
        progress = done.stored + done.already > 0;
        var s = document.getElementById("sync-status");
        s.textContent = "上次同步：新保存 " + done.stored + " 条，服务器已有 " + done.already + " 条。";
        s.setAttribute("data-stored", String(done.stored));
        s.setAttribute("data-already", String(done.already));
      }
    }).catch(function (e) {
      show(document.getElementById("sync-status"), "暂未同步（" + (navigator.onLine ? "服务器拒绝或出错：" + e.message : "无网络") + "），记录保存在本机，联网后自动同步。");
    }).then(function () {
      syncing = null;
      return refreshCounts().then(function (recs) {
        // Records queued while this sync ran go out now (only after a sync that got answers).
        var left = recs.some(function (r) { return r.status === "queued"; });
        if (progress && left) return sync();
      });
    });
    return syncing;
  }
  function sendBatches(queued, token, totals) {
    if (!queued.length) return Promise.resolve(totals);
    var batch = queued.slice(0, 50);
    return fetch(bar.getAttribute("data-sync"), {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ records: batch.map(payload) })
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) throw new Error(body.error || r.status);
        return body;
      });
    }).then(function (body) {
      var done = {}; body.stored.concat(body.already).forEach(function (id) { done[id] = true; });
      totals.stored += body.stored.length; totals.already += body.already.length;
      return Promise.all(batch.filter(function (r) { return done[r.uuid]; }).map(function (r) {
        r.status = "synced"; r.synced_at = now(); return put(r);
      }));
    }).then(function () { return sendBatches(queued.slice(50), token, totals); });
  }
  document.getElementById("sync-now").addEventListener("click", sync);
  window.addEventListener("online", sync);

  openDraft().then(refreshCounts).then(sync);
})();
