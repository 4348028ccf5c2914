// Follow a job without reloading. Every second the server renders the page's whole live part
// (status, numbers, per-object table, notice, actions and their reasons, rows in review) from
// one snapshot of the job (jobs/<code>/live/, records/web/job_state.py), and it replaces the
// part here in one piece: nothing on screen is ever from two moments. An unchanged job answers
// an empty 304 to the ETag this script sends back (getLive).
// When the table's first rows move (their digest in the live part; on a filtered or later page,
// the snapshot's version), the results rows of this page are fetched again. When the
// job has ended the part is what a reload shows; the flash messages of the running job go, and
// <body data-settled> tells that the page is done changing. A hidden tab does not poll.
(function () {
  "use strict";
  var live = document.getElementById("job-live");
  function settle() { document.body.dataset.settled = "true"; }
  // "The copy is queued", "Cancelling" ... (tagged until-ended: records/web/job_actions.py) are
  // stale once the job has ended (on this page's load, or live below).
  function dropMessages(all) {
    var which = all ? "#main > .msg" : '[data-msg~="until-ended"]';
    document.querySelectorAll(which).forEach(function (m) { m.remove(); });
  }
  if (!live) return;
  if (live.dataset.finished === "true") { dropMessages(false); settle(); return; }
  var url = live.dataset.liveUrl;
  var rowsUrl = live.dataset.rowsUrl + window.location.search;
  var delay = 1000;  // until the next poll (ms)

  function get(u, headers) {
    headers = Object.assign({ Accept: "text/html" }, headers || {});
    return fetch(u, { credentials: "same-origin", headers: headers })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); });
  }

  // The live part asked with the last answer's ETag, by this script: the pages of a signed-in
  // user are sent "no-store" (records/web/middleware.py), so the browser's cache never
  // revalidates them itself. Unchanged: an empty 304, and the part on screen stays.
  var etag = null;
  function getLive(u) {
    var headers = { Accept: "text/html" };
    if (etag) headers["If-None-Match"] = etag;
    return fetch(u, { credentials: "same-origin", cache: "no-store", headers: headers })
      .then(function (r) {
        if (r.status === 304 && lastHtml !== null) return lastHtml;
        if (!r.ok) throw new Error(r.status);
        etag = r.headers.get("ETag");
        return r.text();
      });
  }

  function refreshRows() {
    var tbody = document.querySelector("#results-table tbody");
    if (!tbody) return Promise.resolve();
    // The first page's rows of the digest the live part gave: the server kept them with the part.
    return get(rowsUrl, rowsVersion ? { "X-Rows-Digest": rowsVersion } : null)
      .then(function (html) { if (html.trim()) tbody.innerHTML = html; })  // escaped by the server
      .catch(function () {});
  }

  // What has the keyboard focus in the live part, found again in the new one (by id or link).
  function focusKey() {
    var el = document.activeElement;
    if (!el || !live.contains(el)) return null;
    if (el.id) return "#" + CSS.escape(el.id);
    var href = el.getAttribute("href");
    return href ? 'a[href="' + CSS.escape(href) + '"]' : null;
  }

  var lastHtml = null;  // a 304 hands back the same text: nothing to swap
  var rowsVersion = null;  // the digest of the first rows shown (job_live sends it)
  function swap(html) {
    if (html === lastHtml) return false;
    lastHtml = html;
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("job-live");
    if (!fresh) throw new Error("no live part");
    // The rows to fetch again: the first page's when their digest moves (sent beside the part,
    // so the first poll fetches them once); a filtered or later page's whenever the job's
    // version does.
    var digest = doc.getElementById("job-rows-version");
    var rows = digest && !window.location.search ? digest.dataset.rowsVersion : null;
    var moved = rows ? rows !== rowsVersion : fresh.dataset.version !== live.dataset.version;
    rowsVersion = rows;
    var key = focusKey();
    var node = document.importNode(fresh, true);
    live.replaceWith(node);
    live = node;
    var again = key && live.querySelector(key);
    if (again) again.focus();
    return moved;
  }

  // How often: every second while the part changes; after each unchanged answer half as long
  // again, up to five seconds (a queued or waiting job, a pause in the run); at once when the
  // tab becomes visible again. Fifty people watching a quiet job then ask ~10 times a second,
  // not 50.
  var QUICK = 1000, SLOWEST = 5000;
  var timer = null, asking = false;
  function later(ms) {
    delay = ms;
    timer = window.setTimeout(poll, ms);
  }
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || asking || timer === null || delay <= QUICK) return;
    window.clearTimeout(timer);
    poll();
  });

  function poll() {
    timer = null;
    if (document.hidden) {
      document.addEventListener("visibilitychange", poll, { once: true });
      return;
    }
    asking = true;
    getLive(url)
      .then(function (html) {
        asking = false;
        var changed = html !== lastHtml;
        var moved = swap(html);
        var ended = live.dataset.finished === "true";
        var rows = moved ? refreshRows() : Promise.resolve();
        if (ended) {
          dropMessages(true);
          rows.then(settle);
          return;
        }
        later(changed ? QUICK : Math.min(delay * 1.5, SLOWEST));
      })
      .catch(function () { asking = false; later(Math.min(delay * 2, 15000)); });
  }
  later(QUICK);
})();
