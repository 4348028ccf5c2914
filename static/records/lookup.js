// Reference fields: the box shows a record's name (data-ref-name: the source's), the id goes in a
// hidden input of the field's name. Type a name, pick a record: the name stays in view, its id is
// sent. Text typed without a pick is sent as typed (an id pasted by hand still works; the server
// refuses one that names no record). Without JavaScript the box takes an id. The list comes from
// the page's lookup URL (one search).
(function () {
  "use strict";
  var form = document.getElementById("overrides-form");
  if (!form || !form.dataset.lookupUrl) return;
  var base = form.dataset.lookupUrl; // ends with "/__object__/"
  form.querySelectorAll("input[data-lookup]").forEach(function (idInput, n) {
    // The visible box takes the id's place (and its id, so the label still points at it).
    var input = document.createElement("input");
    input.type = "text";
    input.autocomplete = "off";
    input.className = idInput.className;
    input.id = idInput.id;
    input.value = idInput.dataset.refName || idInput.value;
    input.dataset.lookup = idInput.dataset.lookup;
    ["aria-describedby", "aria-invalid"].forEach(function (a) {
      if (idInput.hasAttribute(a)) input.setAttribute(a, idInput.getAttribute(a));
    });
    idInput.id = idInput.id + "-id";
    idInput.type = "hidden";
    idInput.insertAdjacentElement("afterend", input);
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
          idInput.value = r.id;
          input.value = r.name;
          status.textContent = "Chosen: " + r.name + " (" + r.id + ")";
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
      idInput.value = input.value.trim();  // until a record is picked: sent as typed
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
    input.dataset.ready = "1";  // the name box is in place: browser tests wait for this
  });
})();
