// The profile form shows only the chosen system's fields (all of them without JavaScript).
(function () {
  "use strict";
  var form = document.getElementById("profile-form");
  var system = form && form.querySelector('[name="system"]');
  if (!system) return;
  function show() {
    form.querySelectorAll("[data-for-system]").forEach(function (part) {
      part.hidden = part.dataset.forSystem !== system.value;
    });
  }
  system.addEventListener("change", show);
  show();
})();
