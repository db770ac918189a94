/* Optional enhancement of the questionnaire page: skip logic, progress, jump to the first
   missing answer, no double submit. The page works without it. */
(function () {
  "use strict";
  var form = document.getElementById("qform");
  if (!form) return;
  var qs = [].slice.call(form.querySelectorAll("fieldset.q"));
  var byKey = {};
  qs.forEach(function (q) { byKey[q.id.slice(2)] = q; });

  function values(key) {
    var out = [];
    [].forEach.call(form.querySelectorAll('[name="' + key + '"]'), function (el) {
      if (el.type === "radio" || el.type === "checkbox") { if (el.checked) out.push(el.value); }
      else if (el.value && el.value.trim()) out.push(el.value.trim());
    });
    return out;
  }

  function refresh() {
    var shown = 0, done = 0;
    qs.forEach(function (q) {
      var src = q.getAttribute("data-if"), vis = true;
      if (src) {
        var want = q.getAttribute("data-in").split(" ");
        vis = !byKey[src].hidden && values(src).some(function (v) { return want.indexOf(v) >= 0; });
      }
      q.hidden = !vis;
      [].forEach.call(q.querySelectorAll("input,select,textarea"), function (el) { el.disabled = !vis; });
      if (vis) { shown++; if (values(q.id.slice(2)).length) done++; }
    });
    var p = document.getElementById("progress");
    p.hidden = false;
    p.querySelector("i").style.width = (shown ? Math.round(done * 100 / shown) : 0) + "%";
    p.querySelector("span").textContent = "已答 " + done + " / " + shown + " 题";
  }

  function missing() {
    for (var i = 0; i < qs.length; i++) {
      var q = qs[i];
      if (!q.hidden && q.hasAttribute("data-req") && !values(q.id.slice(2)).length) return q;
    }
    return null;
  }

  function jump(q) {
    q.scrollIntoView({ block: "start" });
    var el = q.querySelector("input,select,textarea");
    if (el) el.focus({ preventScroll: true });
  }

  form.addEventListener("change", refresh);
  form.addEventListener("input", refresh);
  form.addEventListener("submit", function (ev) {
    var q = missing();
    if (q) {
      ev.preventDefault();
      if (!q.querySelector(".err")) {
        var e = document.createElement("p");
        e.className = "err"; e.setAttribute("role", "alert");
        e.textContent = q.getAttribute("data-req");
        q.insertBefore(e, q.querySelector("legend").nextSibling);
      }
      q.className += " bad";
      jump(q);
      return;
    }
    var b = form.querySelector("button[type=submit]");
    b.disabled = true; b.textContent = "正在提交…";
  });
  window.addEventListener("pageshow", function () {
    var b = form.querySelector("button[type=submit]");
    b.disabled = false; b.textContent = "提交问卷";
  });
  form.addEventListener("change", function (ev) {
    var q = ev.target.closest && ev.target.closest("fieldset.q");
    if (q && values(q.id.slice(2)).length) {
      [].forEach.call(q.querySelectorAll(".err"), function (e) { e.remove(); });
      q.className = q.className.replace(/ bad/g, "");
    }
  });
  refresh();
  var first = form.querySelector(".bad");
  if (first) jump(first);
})();
