// -- the actions on an image (templates/studio/image_actions.html) ---------------------
// Copy the prompt, and keep every star of a generation in step once one is toggled
// (an image's bar, the History tile's and the details page's star are the same favourite).
// Download, use, edit a region, vary and open large are links, forms or htmx buttons.
(function () {
  "use strict";

  function announce(text) {
    var announcer = document.getElementById("announcer");
    if (!announcer) return;
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  // The clipboard API needs a secure page (https or localhost); elsewhere the old way.
  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      (document.querySelector("dialog[open]") || document.body).appendChild(area);
      area.select();
      var done = document.execCommand("copy");
      area.remove();
      (done ? resolve : reject)();
    });
  }

  function flash(button, text) {
    var tooltip = button.dataset.tooltip;
    button.dataset.tooltip = text;
    button.classList.add("is-done");
    window.setTimeout(function () {
      button.dataset.tooltip = tooltip;
      button.classList.remove("is-done");
    }, 1600);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy-text]");
    if (!button) return;
    copy(button.dataset.copyText).then(function () {
      flash(button, button.dataset.copied);
      announce(button.dataset.copied);
    }, function () { /* nothing copied; the prompt stays readable on the page */ });
  });

  // An image taken into the composer from the result: show where it went (on a phone the
  // reference images are above, out of sight) and say so.
  document.addEventListener("htmx:afterSettle", function (event) {
    var button = event.detail.requestConfig && event.detail.requestConfig.elt;
    var field = document.getElementById("references-field");
    if (!button || !button.matches || !button.matches(".image-action[data-done]") || !field) return;
    var still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    field.scrollIntoView({ block: "nearest", behavior: still ? "auto" : "smooth" });
    announce(button.dataset.done);
  });

  var FAVOURITE = /\/generations\/([0-9a-f-]{36})\/favourite$/;

  function favouriteOf(form) {
    var found = form && form.getAttribute && FAVOURITE.exec(form.getAttribute("action") || "");
    return found && found[1];
  }

  function showStarred(id, starred) {
    document.querySelectorAll("form[action$='/" + id + "/favourite']").forEach(function (form) {
      var wanted = form.querySelector("input[name=starred]");
      var button = form.querySelector("button[aria-pressed]");
      if (wanted) wanted.value = starred ? "0" : "1";
      if (!button) return;
      button.setAttribute("aria-pressed", String(starred));
      var glyph = button.querySelector("span[aria-hidden]:not(.when-on):not(.when-off)");
      if (glyph && /^[★☆]$/.test(glyph.textContent)) glyph.textContent = starred ? "★" : "☆";
    });
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!favouriteOf(form)) return;
    var wanted = form.querySelector("input[name=starred]");
    form.dataset.sending = wanted ? wanted.value : "";
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    var id = favouriteOf(form);
    if (!id || !event.detail.successful) return;
    showStarred(id, form.dataset.sending === "1");
  });
})();
