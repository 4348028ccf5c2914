// The profile form shows only the chosen system's fields (all of them without JavaScript).
(function () {
  "use strict";
  var form = document.getElementById("profile-form");
  var system = form && form.querySelector('[name="system"]');
  if (!system) return;
  // A field both systems share has its label and help in each one's words (data-label-vault,
  // data-help-zoho ...); the combined words stay when no system is chosen.
  function words(input, kind, holder) {
    if (!holder) return;
    var key = kind + "-" + system.value, combined = kind + "Combined";
    var text = holder.firstChild;
    if (!text || text.nodeType !== Node.TEXT_NODE) return;
    if (!(combined in input.dataset)) input.dataset[combined] = text.nodeValue;
    var chosen = input.getAttribute("data-" + key);
    var tail = input.dataset[combined].match(/\s*$/)[0];  // the space before a label's "*"
    text.nodeValue = chosen === null ? input.dataset[combined] : chosen + tail;
  }
  // Vault's API version, left empty (a Zoho profile has none), gets the newest the app supports.
  var version = form.querySelector('[name="api_version"]');
  function show() {
    form.querySelectorAll("[data-for-system]").forEach(function (part) {
      part.hidden = part.dataset.forSystem !== system.value;
    });
    if (version && system.value === "vault" && !version.value.trim()) version.value = version.dataset.default || "";
    form.querySelectorAll("[data-label-vault], [data-help-vault]").forEach(function (input) {
      words(input, "label", form.querySelector('label[for="' + input.id + '"]'));
      words(input, "help", document.getElementById(input.id + "_helptext"));
    });
  }
  system.addEventListener("change", show);
  show();
  form.dataset.ready = "1";  // bound: browser tests wait for this, not for a time
})();
