// Show as code: the request arrives in #code as a <dialog> (templates/studio/code.html);
// open it, switch its tabs, copy a snippet, and put everything back when it closes.
(function () {
  "use strict";

  function opener() {
    return document.querySelector("[aria-controls=code]");
  }

  document.addEventListener("htmx:load", function (event) {
    var root = event.target;
    if (!root.querySelector) return;
    var dialog = root.matches("[data-code-dialog]") ? root : root.querySelector("[data-code-dialog]");
    if (!dialog || dialog.open) return;
    dialog.addEventListener("close", function () {
      dialog.remove();
      var button = opener();
      if (button) button.focus();
    });
    // A click on the backdrop (the dialog itself, outside its content) closes it.
    dialog.addEventListener("click", function (click) {
      if (click.target === dialog) dialog.close();
    });
    dialog.addEventListener("keydown", onTabKey);
    dialog.showModal();
    dialog.querySelector("[aria-selected=true]").focus();
  });

  // -- tabs: the WAI-ARIA pattern, arrows move between them --------------------------

  function choose(tab) {
    var tabs = tab.closest("[role=tablist]").querySelectorAll("[role=tab]");
    tabs.forEach(function (each) {
      var chosen = each === tab;
      each.setAttribute("aria-selected", chosen ? "true" : "false");
      each.tabIndex = chosen ? 0 : -1;
      document.getElementById(each.getAttribute("aria-controls")).hidden = !chosen;
    });
    tab.focus();
  }

  function onTabKey(event) {
    var tab = event.target.closest("[role=tab]");
    if (!tab) return;
    var tabs = Array.prototype.slice.call(tab.closest("[role=tablist]").querySelectorAll("[role=tab]"));
    var at = tabs.indexOf(tab);
    var to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    choose(tabs[(to + tabs.length) % tabs.length]);
  }

  // -- copy --------------------------------------------------------------------------

  function copy(button) {
    var text = document.getElementById(button.dataset.copy).textContent;
    var label = button.querySelector("[data-copy-label]");
    var status = button.closest("dialog").querySelector("[data-copy-status]");
    var done = function () {
      if (!label.dataset.idle) label.dataset.idle = label.textContent;
      label.textContent = label.dataset.copied;
      status.textContent = label.dataset.copied;
      window.setTimeout(function () {
        label.textContent = label.dataset.idle;
        status.textContent = "";
      }, 2000);
    };
    if (navigator.clipboard) {
      navigator.clipboard.writeText(text).then(done, function () { selectText(button.dataset.copy); });
    } else {
      selectText(button.dataset.copy);
    }
  }

  // Without clipboard access the snippet is selected, for Ctrl+C.
  function selectText(id) {
    var range = document.createRange();
    range.selectNodeContents(document.getElementById(id));
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.addEventListener("click", function (event) {
    var tab = event.target.closest("[data-code-tab]");
    if (tab) choose(tab);
    var button = event.target.closest("[data-copy]");
    if (button) copy(button);
    var close = event.target.closest("[data-close-code]");
    if (close) close.closest("dialog").close();
  });
})();
