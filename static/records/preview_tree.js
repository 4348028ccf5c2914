// The preview's "What will be copied" table: unticking a related object in the choices
// form leaves out its records and everything below them at once: the rows' counts, the totals, the
// write calls and the limit verdict are recomputed here from plan.cost (#plan-cost-data), by the
// same rule as the server (records/copying/plan.py write_calls and limit_verdict). "Update the
// preview" still saves the choice and reads the tree again.
(function () {
  "use strict";
  var data = document.getElementById("plan-cost-data");
  var table = document.getElementById("plan-objects");
  var form = document.getElementById("copy-choices");
  if (!table || !form) {
    if (table) table.dataset.ready = "1";  // nothing to recount here: done all the same
    return;
  }
  var engineBox = form.querySelector("input[type=checkbox][name=engine]");
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=include]"));
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-object]"));

  function number(n) { return n.toLocaleString("en-US"); }

  function leftOut() {
    var out = {};
    boxes.forEach(function (b) { if (!b.checked) out[b.value] = true; });
    return out;
  }

  // A branch left out has Record Copier build the copy (Vault's own deep copy copies everything):
  // while one is, the level-by-level box is ticked and locked and its note says why; the person's
  // own tick (data-chosen) is kept, sent by the hidden input while the box is locked (a disabled
  // box is not sent), and shown again when the lock goes.
  var engineNote = document.getElementById("engine-needed");
  var engineKept = document.getElementById("engine-kept");
  var chosen = Boolean(engineBox) && engineBox.dataset.chosen === "1";
  function tickEngine(out) {
    if (!engineBox || !engineNote) return;
    var forced = engineBox.dataset.neededBesides === "1" || Object.keys(out).length > 0;
    engineBox.checked = forced || chosen;
    engineBox.disabled = forced;
    if (engineKept) engineKept.disabled = !(forced && chosen);
    engineNote.hidden = !forced;
  }

  // A plan refused at the limit has no cost to recount (its counts stopped), but its rows still
  // name the objects each is reached through: a row is left out with its object, or when every
  // object it is reached through (one level up) is. Its count then reads "left out".
  function greyRows(out) {
    var gone = {};
    var byDepth = rows.slice().sort(function (a, b) { return Number(a.dataset.depth) - Number(b.dataset.depth); });
    byDepth.forEach(function (tr) {
      var depth = Number(tr.dataset.depth);
      var parents = (tr.dataset.parentObject || "").split(", ").filter(Boolean);
      var allGone = parents.length > 0 && parents.every(function (p) { return gone[p + "|" + (depth - 1)]; });
      var isOut = depth > 0 && (Boolean(out[tr.dataset.object]) || allGone);
      if (isOut) gone[tr.dataset.object + "|" + depth] = true;
      var cell = tr.querySelector("[data-role=count]");
      if (cell.dataset.shown === undefined) cell.dataset.shown = cell.textContent;
      tr.classList.toggle("left-out", isOut);
      cell.textContent = isOut ? "left out" : cell.dataset.shown;
    });
  }

  if (!data) {
    var greyOnly = function () { var out = leftOut(); tickEngine(out); greyRows(out); };
    boxes.forEach(function (b) { b.addEventListener("change", greyOnly); });
    if (engineBox) engineBox.addEventListener("change", function () { chosen = engineBox.checked; greyOnly(); });
    table.dataset.ready = "1";  // bound: browser tests wait for this, not for a time
    return;
  }

  var planned = JSON.parse(data.textContent);
  var cost = planned;
  var read = {};  // objects whose records the server counted (the others were left out before)
  cost.groups.forEach(function (g) { g.path.forEach(function (o) { read[o] = true; }); });
  rows.forEach(function (tr) { read[tr.dataset.object] = true; });

  function kept(out) {
    return cost.groups.filter(function (g) {
      return !g.path.some(function (o) { return out[o]; });
    });
  }

  // plan.write_calls: one call per top record; when the engine builds the tree, one per batch of
  // each object's records in each creation wave, and one per batch of each object's records whose
  // references the second pass sets (repoint.py).
  function writeCalls(out, groups) {
    if (cost.own_deep_copy && Object.keys(out).length === 0) return cost.top;
    var perBatch = {};
    var perUpdate = {};
    groups.forEach(function (g) {
      var key = g.object + "\u0000" + g.wave;
      perBatch[key] = (perBatch[key] || 0) + g.count;
      perUpdate[g.object] = (perUpdate[g.object] || 0) + (g.updates || 0);
    });
    var calls = cost.top;
    Object.keys(perBatch).forEach(function (k) { calls += Math.ceil(perBatch[k] / cost.batch_size); });
    Object.keys(perUpdate).forEach(function (k) { calls += Math.ceil(perUpdate[k] / cost.batch_size); });
    return calls;
  }

  // plan.verdict
  function verdict(related) {
    var limit = number(cost.limit);
    if (related <= cost.limit) return number(related) + " related records: within " + cost.limit_owner + " " + limit + " limit.";
    var engineHelps = Boolean(cost.engine_choice) && cost.limit < cost.engine_choice.on.limit;
    var hint = engineHelps ? "Leave out a branch, or build it level by level." : "Leave out a branch.";
    return number(related) + " related records: over the limit: more than " + cost.limit_owner + " " + limit + ". " + hint;
  }

  function rowCount(tr, groups) {
    var depth = Number(tr.dataset.depth);
    if (depth === 0) return Number(tr.dataset.count);
    return groups.reduce(function (sum, g) {
      return g.object === tr.dataset.object && g.depth === depth ? sum + g.count : sum;
    }, 0);
  }

  // plan._with_engine: Vault's "build it level by level" box changes the way and the limit.
  function withEngine() {
    if (!planned.engine_choice || !engineBox) return planned;
    var how = planned.engine_choice[engineBox.checked ? "on" : "off"];
    return Object.assign({}, planned, how);
  }

  function update() {
    var out = leftOut();
    tickEngine(out);
    cost = withEngine();
    var groups = kept(out);
    var total = 0, related = 0;
    table.querySelectorAll("tbody tr[data-object]").forEach(function (tr) {
      var n = rowCount(tr, groups);
      total += n;
      if (Number(tr.dataset.depth) > 0) related += n;
      tr.classList.toggle("left-out", n === 0 && Number(tr.dataset.depth) > 0);
      tr.querySelector("[data-role=count]").textContent = n === 0 && Number(tr.dataset.depth) > 0 ? "0 (left out)" : number(n);
    });
    document.getElementById("plan-total").textContent = number(total);
    var relatedCell = document.getElementById("plan-related");
    if (relatedCell) relatedCell.textContent = number(related);
    document.getElementById("plan-calls").textContent = number(writeCalls(out, groups));
    document.getElementById("plan-verdict").textContent = verdict(related);
    var unread = boxes.filter(function (b) { return b.checked && !read[b.value]; }).map(function (b) { return b.value; });
    var note = document.getElementById("plan-unread");
    note.hidden = unread.length === 0;
    note.textContent = unread.length ? "Plus the records of " + unread.join(", ") + ": counted when you update the preview." : "";
    boxes.forEach(function (b) {
      var hint = document.getElementById("include-note-" + b.value);
      if (hint) hint.hidden = !(b.checked && !read[b.value]);
    });
  }

  boxes.forEach(function (b) { b.addEventListener("change", update); });
  if (engineBox) engineBox.addEventListener("change", function () { chosen = engineBox.checked; update(); });
  table.dataset.ready = "1";  // bound: browser tests wait for this, not for a time
})();
