// The fields step: a number box holding what isn't a number ("abc", "1e999") is sent by the
// browser as an empty value, which would quietly leave the field as it was. Stop the submit and
// say so beside the box instead (the server refuses an emptied box without "Clear" as well).
(function () {
  "use strict";
  var form = document.getElementById("overrides-form");
  if (!form) return;
  form.addEventListener("submit", function (event) {
    // A step link (name="goto") only leaves the step; what was typed is kept as sent, and the
    // server asks again about an emptied box when the person comes back to preview.
    if (event.submitter && event.submitter.name === "goto") return;
    var first = null;
    form.querySelectorAll("input[type=number]").forEach(function (input) {
      var note = document.getElementById(input.id + "-bad");
      if (input.validity.badInput) {
        if (!note) {
          note = document.createElement("span");
          note.id = input.id + "-bad";
          note.className = "errorlist bad-number";
          note.setAttribute("role", "alert");
          input.insertAdjacentElement("afterend", note);
        }
        note.textContent = "This isn't a number the field can hold; type digits only (e.g. 42 or 12.5).";
        input.setAttribute("aria-invalid", "true");
        first = first || input;
      } else if (note) {
        note.remove();
        input.removeAttribute("aria-invalid");
      }
    });
    if (first) { event.preventDefault(); first.focus(); }
  });
  form.dataset.ready = "1";  // bound: browser tests wait for this, not for a time
})();
