// Filter a table's rows as you type (the form still works without JavaScript). The input filters
// by what it already holds when the script starts (typed before it loaded, or kept by the browser
// on Back), then says it is ready (data-ready): browser tests wait for that, not for a time.
(function () {
  "use strict";
  document.querySelectorAll("[data-filter-list]").forEach(function (input) {
    var body = document.getElementById(input.dataset.filterList);
    var none = document.getElementById("object-none");
    function apply() {
      var q = input.value.trim().toLowerCase(), shown = 0;
      body.querySelectorAll("tr").forEach(function (tr) {
        var hit = !q || tr.dataset.filterText.indexOf(q) !== -1;
        tr.hidden = !hit;
        if (hit) shown++;
      });
      if (none) none.hidden = shown !== 0;
    }
    input.addEventListener("input", apply);
    apply();
    input.dataset.ready = "1";
  });
})();
