// Follow a job's progress without reloading: poll a small JSON endpoint until the job finishes.
// The endpoint sends an ETag with "Cache-Control: no-cache", so the browser's HTTP cache asks with
// If-None-Match and an unchanged job costs an empty 304 (fetch still hands us the JSON).
// A hidden tab does not poll; it catches up as soon as it is shown again.
// When the done count moves (at most every 3 s) the results rows, the per-object table, the
// outcome badges and Vault's phase are fetched again; when the job ends they are fetched once
// more, the bar takes the outcome's colour and the actions are swapped for the finished job's
// (from the page itself), so nothing stale is left on screen and nothing reloads.
(function () {
  "use strict";
  var box = document.getElementById("job-status");
  // "The copy is queued" is stale once the job has ended (on this page's load, or live below).
  function dropQueuedNotes() {
    document.querySelectorAll('[data-msg~="while-queued"]').forEach(function (m) { m.remove(); });
  }
  if (box && box.dataset.finished === "true") dropQueuedNotes();
  if (!box || box.dataset.finished === "true") return;
  var url = box.dataset.progressUrl;
  var bar = box.querySelector(".progress");
  var delay = 1000;
  var tbody = document.querySelector("#results-table tbody");
  var rowsUrl = box.dataset.rowsUrl + window.location.search;
  var shown = document.getElementById("count-done");
  var lastDone = shown ? Number(shown.textContent) : null, lastParts = 0;

  function get(u, kind) {
    return fetch(u, { credentials: "same-origin", headers: { Accept: kind } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return kind === "application/json" ? r.json() : r.text(); });
  }

  function set(id, value) {
    var el = document.getElementById(id);
    if (el) el.textContent = value;
  }

  function showParts(parts) {
    (parts.objects || []).forEach(function (o) {
      var tr = document.querySelector('#object-progress tr[data-object="' + CSS.escape(o.object) + '"]');
      if (!tr) return;
      tr.querySelector('[data-part="done"]').textContent = o.done + "/" + o.total;
      tr.querySelector('[data-part="succeeded"]').textContent = o.succeeded;
      tr.querySelector('[data-part="failed"]').textContent = o.failed;
    });
    document.querySelectorAll("#outcome-counts [data-outcome]").forEach(function (badge) {
      var n = (parts.outcomes || {})[badge.dataset.outcome] || 0;
      badge.textContent = badge.dataset.label + ": " + n;
      badge.hidden = n === 0;
    });
    var phase = document.getElementById("job-phase");
    if (phase) { phase.textContent = parts.phase || ""; phase.hidden = !parts.phase; }
  }

  // A Vault deep copy (data-phased) has no record done while Vault's own job runs: its phase
  // ("Vault job N running, polled k times") is the only thing that moves, so it is asked for
  // every 3 s even when the done count stands still.
  var phased = box.dataset.phased === "true";

  function refreshParts(p, force) {
    var moved = p.done !== lastDone || phased;
    if (!force && (!moved || Date.now() - lastParts < 3000)) return Promise.resolve();
    lastDone = p.done;
    lastParts = Date.now();
    var jobs = [get(box.dataset.objectsUrl, "application/json").then(showParts).catch(function () {})];
    if (tbody) {
      jobs.push(get(rowsUrl, "text/html")
        .then(function (html) { if (html.trim()) tbody.innerHTML = html; })  // escaped by the server
        .catch(function () {}));
    }
    return Promise.all(jobs);
  }

  function setBar(p) {
    bar.className = bar.className.replace(/\bw-\d+\b/g, "").trim();
    var fill = bar.firstElementChild;
    fill.className = "w-" + p.percent;
    bar.setAttribute("aria-valuenow", p.percent);
    if (p.finished) bar.classList.add("done", "status-" + p.status);
  }

  function update(p) {
    setBar(p);
    set("job-percent", p.percent + "%");
    if (p.words) set("job-words", p.words);
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

  function finish(p) {
    box.dataset.finished = "true";
    dropQueuedNotes();
    var actions = document.getElementById("job-actions");
    if (actions) actions.hidden = true;  // no Cancel once the job has ended
    refreshParts(p, true);
    // The finished job's actions (Resume, Undo, ...) as the server renders them for this user.
    // With them the status words and the reasons an action is not offered, as they now stand.
    get(box.dataset.pageUrl, "text/html").then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      ["job-actions", "job-words", "job-action-reasons"].forEach(function (id) {
        var fresh = doc.getElementById(id), here = document.getElementById(id);
        if (fresh && here) here.innerHTML = fresh.innerHTML;
      });
      // Rows that need review (a lost answer more than one record could be the copy of): their
      // candidates and pick forms, as the server renders them.
      var review = doc.getElementById("review"), results = document.getElementById("results-h");
      if (review && results && !document.getElementById("review")) {
        results.parentNode.insertBefore(document.importNode(review, true), results);
      }
      if (actions) actions.hidden = false;
    }).catch(function () { if (actions) actions.hidden = false; });
  }

  function poll() {
    if (document.hidden) {
      document.addEventListener("visibilitychange", poll, { once: true });
      return;
    }
    get(url, "application/json")
      .then(function (p) {
        update(p);
        if (p.finished) { finish(p); return; }
        refreshParts(p, false);
        delay = 1000;
        window.setTimeout(poll, delay);
      })
      .catch(function () { delay = Math.min(delay * 2, 15000); window.setTimeout(poll, delay); });
  }
  window.setTimeout(poll, delay);
})();
