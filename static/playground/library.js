// The prompt library in the composer (templates/library/): "Save prompt" opens its dialog with
// the composer's prompt filled in; "Library" loads the picker into #library-picker, where a
// result's button puts its prompt into the composer (its hx-post marks it used).
(function () {
  "use strict";

  function composerPrompt() {
    return document.querySelector("#composer textarea[name=prompt]");
  }

  function announce(text) {
    var announcer = document.getElementById("announcer");
    if (announcer) announcer.textContent = text;
  }

  function openSaveDialog(button) {
    var dialog = document.getElementById("save-prompt-dialog");
    if (!dialog) return;
    dialog.opener = button;
    if (dialog.querySelector("[data-saved]")) resetSaveForm(dialog);
    var prompt = composerPrompt();
    var text = dialog.querySelector("[data-saved-text]");
    if (prompt && text && prompt.value.trim()) text.value = prompt.value;
    dialog.showModal();
    var title = dialog.querySelector("input[name=title]");
    if (title) title.focus();
  }

  // After a save the dialog shows "Saved"; the next opening starts from an empty form again.
  function resetSaveForm(dialog) {
    var done = dialog.querySelector("[data-saved]");
    var blank = dialog.blankForm;
    if (done && blank) {
      done.replaceWith(blank.cloneNode(true));
      htmx.process(dialog.querySelector("form"));
    }
  }

  function setUpDialog(dialog) {
    if (dialog.dataset.ready) return;
    dialog.dataset.ready = "1";
    dialog.addEventListener("close", function () {
      var opener = dialog.opener || document.querySelector("[aria-controls=" + (dialog.id || "library-picker") + "]");
      if (opener) opener.focus();
    });
    dialog.addEventListener("click", function (click) {
      if (click.target === dialog) dialog.close();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var dialog = document.getElementById("save-prompt-dialog");
    if (!dialog) return;
    setUpDialog(dialog);
    var form = dialog.querySelector("form");
    dialog.blankForm = form.cloneNode(true);
  });

  // The picker, as it lands; later its results only.
  document.addEventListener("htmx:load", function (event) {
    var root = event.target;
    if (!root.querySelector) return;
    var picker = root.matches("[data-library-picker]") ? root : root.querySelector("[data-library-picker]");
    if (picker && !picker.open) {
      setUpDialog(picker);
      picker.opener = document.querySelector("[data-library-opener]");
      picker.showModal();
      picker.querySelector("[data-picker-search]").focus();
    }
    var saved = root.matches("[data-saved]") ? root : root.querySelector("[data-saved]");
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

  function insert(button) {
    var prompt = composerPrompt();
    if (!prompt) return;
    prompt.value = button.dataset.insertPrompt;
    // The counter and the over-limit note follow the prompt's input events.
    prompt.dispatchEvent(new Event("input", { bubbles: true }));
    var dialog = button.closest("dialog");
    dialog.opener = prompt;
    dialog.close();
    announce(button.dataset.title);
  }

  document.addEventListener("click", function (event) {
    var save = event.target.closest("[data-save-prompt]");
    if (save) openSaveDialog(save);
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
