// The preview's choices: "Add a change" / "Add a stamp" add rows from the page's
// <template>s, and choosing a row's object fills its field select from
// copy/<profile>/<object>/fields.json (one describe on the server). The server renders the rows
// already chosen, so the form works and keeps them without this script too.
(function () {
  "use strict";
  var box = document.getElementById("choice-changes");
  if (!box) return;
  var url = box.dataset.fieldsUrl;
  var form = box.closest("form");
  var cache = {};
  // {object: the profile's default lineage field}: a lineage row's blank choice names it, or asks for one.
  var defaultsTag = document.getElementById("lineage-defaults");
  var defaults = defaultsTag ? JSON.parse(defaultsTag.textContent) : {};

  function nameDefault(select, object) {
    if (!select.hasAttribute("data-text-only") || !select.options.length) return;
    var field = object && defaults[object];
    select.options[0].text = field ? "the profile's default (" + field + ")" : "— choose a text field —";
  }

  function fill(select, fields, keep) {
    var textOnly = select.hasAttribute("data-text-only");
    while (select.options.length > 1) select.remove(1);
    fields.forEach(function (f) {
      if (textOnly && !f.text) return;
      var option = new Option(f.label + " · " + f.name, f.name);
      option.selected = f.name === keep;
      select.add(option);
    });
  }

  function say(row, text) {
    var note = row.querySelector("[data-role=fields-error]");
    if (!note) {
      note = document.createElement("span");
      note.className = "errorlist";
      note.setAttribute("data-role", "fields-error");
      note.setAttribute("role", "alert");
      row.appendChild(note);
    }
    note.textContent = text;
    note.hidden = !text;
  }

  function load(row) {
    var object = row.querySelector("[data-role=object]").value;
    var select = row.querySelector("[data-role=field]");
    nameDefault(select, object);
    if (!object) { fill(select, [], ""); return; }
    // The field chosen when the answer arrives is kept (it may have been picked meanwhile).
    var done = function (fields) { fill(select, fields, select.value); };
    if (cache[object]) { done(cache[object]); return; }
    fetch(url.replace("__OBJECT__", encodeURIComponent(object)), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        say(row, data.error || "");
        if (!data.error) cache[object] = data.fields;
        done(data.fields || []);
      })
      .catch(function () { say(row, "The fields could not be read; try again, or type the change as a line."); });
  }

  form.addEventListener("change", function (event) {
    if (event.target.matches("[data-choice-row] [data-role=object]")) load(event.target.closest("[data-choice-row]"));
  });

  form.querySelectorAll("button[data-add]").forEach(function (button) {
    var kind = button.dataset.add;
    var rows = form.querySelector("[data-rows=" + kind + "]");
    var template = document.getElementById("choice-" + kind + "-template");
    button.hidden = false;
    button.addEventListener("click", function () {
      var n = String(rows.querySelectorAll("[data-choice-row]").length);
      var row = template.content.firstElementChild.cloneNode(true);
      row.querySelectorAll("[id], [name], [for]").forEach(function (el) {
        ["id", "name", "for"].forEach(function (a) {
          if (el.hasAttribute(a)) el.setAttribute(a, el.getAttribute(a).replace("__N__", n));
        });
      });
      rows.appendChild(row);
      row.querySelector("[data-role=object]").focus();
    });
  });
  box.dataset.ready = "1";  // bound: browser tests wait for this, not for a time
})();
