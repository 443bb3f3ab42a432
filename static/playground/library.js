// The prompt library in the composer (templates/library/): "Save prompt" loads its dialog into
// #library-save, with the composer's prompt put in; "Library" loads the picker into
// #library-picker, where a result's button puts its prompt into the composer (its hx-post,
// sent before the dialog closes and goes, marks it used).
(function () {
  "use strict";

  function composerPrompt() {
    return document.querySelector("#composer textarea[name=prompt]");
  }

  function announce(text) {
    var announcer = document.getElementById("announcer");
    if (announcer) announcer.textContent = text;
  }

  // A dialog lives while it is open: closed, it goes, and the focus returns to what opened it.
  function open(dialog, opener, focus) {
    dialog.addEventListener("close", function () {
      dialog.remove();
      var back = dialog.returnTo || opener;
      if (back) back.focus();
    });
    dialog.addEventListener("click", function (click) {
      if (click.target === dialog) dialog.close();
    });
    dialog.showModal();
    focus.focus();
  }

  // The dialogs, as they land; later their results or their form only.
  document.addEventListener("htmx:load", function (event) {
    var root = event.target;
    if (!root.querySelector) return;
    var found = function (selector) {
      return root.matches(selector) ? root : root.querySelector(selector);
    };
    var picker = found("[data-library-picker]");
    if (picker && !picker.open) {
      open(picker, document.querySelector("[data-library-opener]"), picker.querySelector("[data-picker-search]"));
    }
    var save = found("[data-save-dialog]");
    if (save && !save.open) {
      var prompt = composerPrompt();
      if (prompt) save.querySelector("[data-saved-text]").value = prompt.value;
      open(save, document.querySelector("[data-save-opener]"), save.querySelector("input[name=title]"));
    }
    var saved = found("[data-saved]");
    if (saved) saved.querySelector("[data-close-dialog]").focus();
  });

  // A prompt with {{variables}} says which blanks are still to fill, under the composer.
  var VARIABLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

  function showBlanks() {
    var prompt = composerPrompt();
    var note = document.querySelector("[data-template-note]");
    if (!prompt || !note) return;
    if (!note.dataset.label) note.dataset.label = note.textContent;
    var names = [];
    prompt.value.replace(VARIABLE, function (_match, name) {
      if (names.indexOf(name) === -1) names.push(name);
    });
    note.hidden = names.length === 0;
    note.textContent = note.dataset.label + " ";
    names.forEach(function (name) {
      var chip = document.createElement("code");
      chip.className = "variable-chip";
      chip.textContent = "{{" + name + "}}";
      note.appendChild(chip);
      note.appendChild(document.createTextNode(" "));
    });
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("#composer textarea[name=prompt]")) showBlanks();
  });
  document.addEventListener("DOMContentLoaded", showBlanks);
  document.addEventListener("htmx:load", function (event) {
    if (event.target.querySelector && event.target.querySelector("[data-template-note]")) showBlanks();
  });

  // "New batch" beside the composer takes a template being written along to the batch page.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-batch-from-prompt]");
    var prompt = composerPrompt();
    if (!link || !prompt || !new RegExp(VARIABLE.source).test(prompt.value)) return;
    link.href = link.pathname + "?template=" + encodeURIComponent(prompt.value);
  });

  function insert(button) {
    var prompt = composerPrompt();
    if (!prompt) return;
    prompt.value = button.dataset.insertPrompt;
    // The counter and the over-limit note follow the prompt's input events.
    prompt.dispatchEvent(new Event("input", { bubbles: true }));
    var dialog = button.closest("dialog");
    dialog.returnTo = prompt;
    dialog.close();
    announce(button.dataset.title);
  }

  document.addEventListener("click", function (event) {
    var chosen = event.target.closest("[data-insert-prompt]");
    if (chosen) insert(chosen);
    var close = event.target.closest("[data-close-dialog]");
    if (close) close.closest("dialog").close();
  });

  // ↓ from the search goes to the results; ↑ and ↓ move between them. Esc in the search
  // closes the picker at once (a search field would first only clear itself).
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && event.target.matches && event.target.matches("[data-picker-search]")) {
      event.preventDefault();
      event.target.closest("dialog").close();
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    var picker = event.target.closest && event.target.closest("[data-library-picker]");
    if (!picker) return;
    var buttons = Array.prototype.slice.call(picker.querySelectorAll("[data-insert-prompt]"));
    if (!buttons.length) return;
    var at = buttons.indexOf(event.target);
    var to = event.key === "ArrowDown" ? at + 1 : at - 1;
    if (at === -1 && event.key === "ArrowUp") return;
    event.preventDefault();
    if (to < 0) picker.querySelector("[data-picker-search]").focus();
    else buttons[Math.min(to, buttons.length - 1)].focus();
  });
})();
