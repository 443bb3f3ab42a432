// The tokens page: copy a new token or a callback secret with one button.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-from]");
    if (!button) return;
    var field = document.getElementById(button.dataset.copyFrom);
    var label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    var done = function () {
      button.textContent = button.dataset.copied;
      var announcer = document.getElementById("announcer");
      if (announcer) announcer.textContent = button.dataset.copied;
      window.setTimeout(function () { button.textContent = label; }, 2000);
    };
    var selectIt = function () {
      field.focus();
      field.select();
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, selectIt);
    } else {
      selectIt(); // the reader copies it with the keyboard
    }
  });
})();

// After a refused create, the first field with an error takes the focus, so its message is read.
document.addEventListener("htmx:afterSwap", function (event) {
  if (event.target.id !== "tokens") return;
  var invalid = event.target.querySelector("[aria-invalid=true]");
  if (invalid) invalid.focus();
});
