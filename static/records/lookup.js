// Reference fields: type a name, pick a record, the box gets its id (the box still takes an id
// typed by hand without JavaScript). The list comes from the page's lookup URL (one search).
(function () {
  "use strict";
  var form = document.getElementById("overrides-form");
  if (!form || !form.dataset.lookupUrl) return;
  var base = form.dataset.lookupUrl; // ends with "/__object__/"
  form.querySelectorAll("input[data-lookup]").forEach(function (input, n) {
    var list = document.createElement("ul");
    list.className = "lookup-list";
    list.id = "lookup-" + n;
    list.setAttribute("role", "listbox");
    list.hidden = true;
    var status = document.createElement("span");
    status.className = "helptext lookup-status";
    status.setAttribute("aria-live", "polite");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.insertAdjacentElement("afterend", status);
    input.insertAdjacentElement("afterend", list);
    var timer = null, asked = 0;

    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); }

    function show(results, error) {
      list.textContent = "";
      results.forEach(function (r) {
        var li = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "link-button";
        button.setAttribute("role", "option");
        button.textContent = r.name + " (" + r.id + ")";
        button.addEventListener("click", function () {
          input.value = r.id;
          status.textContent = "Chosen: " + r.name;
          close();
          input.focus();
        });
        li.appendChild(button);
        list.appendChild(li);
      });
      list.hidden = results.length === 0;
      input.setAttribute("aria-expanded", results.length ? "true" : "false");
      status.textContent = error || (results.length ? results.length + " found" : "Nothing found");
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2) { close(); status.textContent = ""; return; }
      timer = setTimeout(function () {
        var mine = ++asked;
        var url = base.replace("__object__", encodeURIComponent(input.dataset.lookup)) + "?q=" + encodeURIComponent(q);
        fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (body) { if (mine === asked) show(body.results || [], body.error); })
          .catch(function () { if (mine === asked) show([], "The lookup failed; type the record id instead."); });
      }, 250);
    });
    input.addEventListener("keydown", function (e) { if (e.key === "Escape") close(); });
  });
})();
