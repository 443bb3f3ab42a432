// Small browser-side helpers. Everything else is server-rendered and swapped by htmx.
(function () {
  "use strict";

  function updateCounter(textarea) {
    var output = document.getElementById(textarea.dataset.counter);
    if (!output) return;
    var limit = Number(output.dataset.limit);
    var length = textarea.value.length;
    output.textContent = length + " / " + limit;
    output.classList.toggle("near-limit", length > limit * 0.9);
  }

  // A draft survives a reload, a language change or signing in again, in this tab only.
  var DRAFT_KEY = "playground-prompt-draft";

  function keepDraft(textarea) {
    if (!textarea.value && window.sessionStorage.getItem(DRAFT_KEY)) {
      textarea.value = window.sessionStorage.getItem(DRAFT_KEY);
    }
    textarea.addEventListener("input", function () {
      window.sessionStorage.setItem(DRAFT_KEY, textarea.value);
    });
  }

  // The History item shown in the result panel is marked, and the panel brought into view.
  function markSelected() {
    var result = document.getElementById("result");
    var selected = result && result.dataset.generation;
    document.querySelectorAll(".history-item").forEach(function (item) {
      var link = item.querySelector(".history-open");
      var isSelected = Boolean(selected) && link.id === "open-" + selected;
      item.classList.toggle("is-selected", isSelected);
      if (isSelected) { link.setAttribute("aria-current", "true"); } else { link.removeAttribute("aria-current"); }
    });
  }

  function revealResult() {
    var result = document.getElementById("result");
    if (!result) return;
    var top = result.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight * 0.6) {
      var smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      result.scrollIntoView({ behavior: smooth ? "smooth" : "auto", block: "start" });
    }
  }

  // -- reference images: drop files on the drop zone -----------------------------
  function hasFiles(event) {
    return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") !== -1;
  }

  document.addEventListener("dragover", function (event) {
    if (!hasFiles(event)) return;
    event.preventDefault(); // a file dropped beside the zone must not replace the page
    var zone = event.target.closest && event.target.closest("[data-dropzone]");
    document.querySelectorAll("[data-dropzone]").forEach(function (each) {
      each.classList.toggle("is-over", each === zone);
    });
    event.dataTransfer.dropEffect = zone ? "copy" : "none";
  });
  document.addEventListener("dragleave", function (event) {
    if (event.target.matches && event.target.matches("[data-dropzone]")) event.target.classList.remove("is-over");
  });
  document.addEventListener("drop", function (event) {
    if (!hasFiles(event)) return;
    event.preventDefault();
    var zone = event.target.closest && event.target.closest("[data-dropzone]");
    if (!zone) return;
    zone.classList.remove("is-over");
    var input = zone.querySelector("input[type=file]");
    input.files = event.dataTransfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });

  function init(root) {
    root.querySelectorAll("textarea[data-counter]").forEach(function (textarea) {
      keepDraft(textarea);
      updateCounter(textarea);
      textarea.addEventListener("input", function () { updateCounter(textarea); });
    });
    root.querySelectorAll("[data-submit-shortcut]").forEach(function (field) {
      field.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && field.form) {
          event.preventDefault();
          field.form.requestSubmit();
        }
      });
    });
  }

  // A hidden tab does not poll: cancel the timed request, and catch up once visible.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    if (document.hidden && event.detail.elt.hasAttribute("data-poll") && !trigger) {
      event.preventDefault();
    }
  });
  // A fragment refused with 403 means the session ended: reload, which leads to sign-in.
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr.status === 403) {
      window.location.reload();
    }
  });

  // Another page of the History page: focus goes to the results' heading, not to <body>.
  document.addEventListener("htmx:afterSettle", function (event) {
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!event.detail.elt || event.detail.elt.id !== "browse" || !source || !source.closest || !source.closest(".pager")) return;
    var heading = document.getElementById("results-title");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  });

  // A refused Generate comes back with the prompt's autofocus: move focus to the first
  // field in error instead, so its message (linked by aria-describedby) is read out.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.elt || event.detail.elt.id !== "compose") return;
    var invalid = ["[aria-invalid='true']", "fieldset.has-error input:checked", "fieldset.has-error input", "#form-error"]
      .map(function (selector) { return document.querySelector("#compose " + selector); })
      .filter(Boolean)[0];
    if (invalid) {
      if (invalid.id === "form-error") invalid.setAttribute("tabindex", "-1");
      invalid.focus();
    }
  });

  // History is swapped whole; a stable region outside it announces a changed count.
  document.addEventListener("htmx:afterSwap", function (event) {
    markSelected();
    if (event.detail.target && event.detail.target.id === "code") {
      var title = document.getElementById("code-title");
      if (title) title.focus();
    }
    // The references field is swapped whole: put focus back where the person can go on.
    var field = document.getElementById("references-field");
    if (field && document.activeElement === document.body && event.detail.target.id === "references-field") {
      var next = field.querySelector("#references-error") || field.querySelector("#id_images") ||
        field.querySelector(".reference-item:last-child button");
      if (next) next.focus();
    }
    if (event.detail.elt.classList && event.detail.elt.classList.contains("history-open")) {
      revealResult();
    }
    var summary = document.getElementById("history-summary");
    var announcer = document.getElementById("announcer");
    if (summary && announcer && announcer.dataset.last !== summary.textContent) {
      announcer.dataset.last = summary.textContent;
      announcer.textContent = summary.textContent;
    }
  });

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && window.htmx) {
      htmx.trigger(document.body, "history-refresh");
    }
  });

  // After Generate on a phone the result panel sits below the form.
  document.addEventListener("generation-queued", revealResult);

  document.addEventListener("DOMContentLoaded", function () {
    markSelected();
    if (window.htmx) {
      htmx.onLoad(init);
    } else {
      init(document);
    }
  });
})();
