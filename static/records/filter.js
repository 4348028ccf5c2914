// Filter a table's rows as you type (the form still works without JavaScript).
(function () {
  "use strict";
  document.querySelectorAll("[data-filter-list]").forEach(function (input) {
    var body = document.getElementById(input.dataset.filterList);
    var none = document.getElementById("object-none");
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase(), shown = 0;
      body.querySelectorAll("tr").forEach(function (tr) {
        var hit = !q || tr.dataset.filterText.indexOf(q) !== -1;
        tr.hidden = !hit;
        if (hit) shown++;
      });
      if (none) none.hidden = shown !== 0;
    });
  });
})();
