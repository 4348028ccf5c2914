// Sizes that depend on data, set from data- attributes: the Content-Security-Policy refuses
// style="" in the markup, while setting element.style from a script of our own is allowed.
//   data-width="42"  -> width: 42%    (progress bars)
//   data-indent="2"  -> padding-left: 2em  (the depth of an object in a copy plan)
(function () {
  "use strict";
  function number(value) {
    var n = Number(value);
    return isFinite(n) ? Math.max(0, Math.min(n, 100)) : 0;
  }
  document.querySelectorAll("[data-width]").forEach(function (el) {
    el.style.width = number(el.dataset.width) + "%";
  });
  document.querySelectorAll("[data-indent]").forEach(function (el) {
    el.style.paddingLeft = number(el.dataset.indent) + "em";
  });
})();
