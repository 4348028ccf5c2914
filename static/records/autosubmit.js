// Forms marked data-autosubmit are sent as soon as one of their lists changes (their button
// stays for browsers without JavaScript).
(function () {
  "use strict";
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.name === "profile") {
          var object = form.querySelector('[name="object"]');
          if (object) object.value = "";  // another profile's objects differ
        }
        form.submit();
      });
    });
    form.dataset.ready = "1";  // bound: browser tests wait for this, not for a time
  });
})();
