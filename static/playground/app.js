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

  function init(root) {
    root.querySelectorAll("textarea[data-counter]").forEach(function (textarea) {
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

  // History is swapped whole; a stable region outside it announces a changed count.
  document.addEventListener("htmx:afterSwap", function () {
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

  document.addEventListener("DOMContentLoaded", function () {
    if (window.htmx) {
      htmx.onLoad(init);
    } else {
      init(document);
    }
  });
})();
