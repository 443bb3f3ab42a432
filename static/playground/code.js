// Show as code: copy a snippet, close the panel.
(function () {
  "use strict";

  // -- show as code ----------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var text = document.getElementById(copy.dataset.copy).textContent;
      var label = copy.textContent;
      var done = function () {
        copy.textContent = copy.dataset.copied;
        window.setTimeout(function () { copy.textContent = label; }, 2000);
      };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(text).then(done, function () { selectText(copy.dataset.copy); });
      } else {
        selectText(copy.dataset.copy);
      }
    }
    var close = event.target.closest("[data-close-code]");
    if (close) {
      var panel = document.getElementById("code");
      panel.innerHTML = "";
      var opener = document.querySelector("[aria-controls=code]");
      if (opener) opener.focus();
    }
  });

  function selectText(id) {
    var range = document.createRange();
    range.selectNodeContents(document.getElementById(id));
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
})();
