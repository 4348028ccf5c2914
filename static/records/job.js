// Follow a job's progress without reloading: poll a small JSON endpoint until the job finishes.
// The endpoint sends an ETag with "Cache-Control: no-cache", so the browser's HTTP cache asks with
// If-None-Match and an unchanged job costs an empty 304 (fetch still hands us the JSON).
// A hidden tab does not poll; it catches up as soon as it is shown again.
(function () {
  "use strict";
  var box = document.getElementById("job-status");
  if (!box || box.dataset.finished === "true") return;
  var url = box.dataset.progressUrl;
  var bar = box.querySelector(".progress");
  var delay = 1000;
  // The results table's rows are fetched again (same filters and page) when the done count
  // moves, at most every 3 s: outcomes and new ids appear while the job runs.
  var tbody = document.querySelector("#results-table tbody");
  var rowsUrl = box.dataset.rowsUrl + window.location.search;
  var shown = document.getElementById("count-done");
  var lastDone = shown ? Number(shown.textContent) : null, lastRows = 0;  // the rows as rendered

  function refreshRows(p) {
    if (!tbody || p.done === lastDone || Date.now() - lastRows < 3000) return;
    lastDone = p.done;
    lastRows = Date.now();
    fetch(rowsUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { if (html.trim()) tbody.innerHTML = html; })  // escaped by the server
      .catch(function () {});
  }

  function set(id, value) {
    var el = document.getElementById(id);
    if (el) el.textContent = value;
  }

  function update(p) {
    bar.firstElementChild.style.width = p.percent + "%";
    bar.setAttribute("aria-valuenow", p.percent);
    set("job-percent", p.percent + "%");
    set("count-planned", p.planned);
    set("count-done", p.done);
    set("count-succeeded", p.succeeded);
    set("count-failed", p.failed);
    var badge = document.querySelector("#job-status-badge .badge");
    if (badge) {
      badge.className = "badge badge-" + p.status;
      badge.textContent = p.status_label + (p.cancel_requested && !p.finished ? " · cancelling" : "");
    }
    var err = document.getElementById("job-error");
    if (err && p.error_summary) { err.textContent = p.error_summary; err.hidden = false; }
  }

  function poll() {
    if (document.hidden) {
      document.addEventListener("visibilitychange", poll, { once: true });
      return;
    }
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (p) {
        update(p);
        if (p.finished) {
          bar.classList.add("done");
          box.dataset.finished = "true";
          // Reload once so the results table and the actions match the final state. Everyone
          // watching a job sees it end within the same second: a random 0.6–2.6 s spreads their
          // reloads (each costs a page render) instead of sending them all in one burst.
          window.setTimeout(function () { window.location.reload(); }, 600 + Math.random() * 2000);
          return;
        }
        refreshRows(p);
        delay = 1000;
        window.setTimeout(poll, delay);
      })
      .catch(function () { delay = Math.min(delay * 2, 15000); window.setTimeout(poll, delay); });
  }
  window.setTimeout(poll, delay);
})();
