// The New batch page (templates/studio/batches/new.html): a preview or a refused start brings
// each field's message into the place beside it, out of band; the field it describes is then
// marked invalid (or no longer), and the first one in error gets the focus after a start.
(function () {
  "use strict";

  function markFields() {
    var first = null;
    document.querySelectorAll("#batch-form [data-feedback]").forEach(function (slot) {
      var id = slot.dataset.feedback;
      var hasError = Boolean(document.getElementById(id));
      document.querySelectorAll("#batch-form [aria-describedby~='" + id + "']").forEach(function (control) {
        if (hasError) { control.setAttribute("aria-invalid", "true"); } else { control.removeAttribute("aria-invalid"); }
        var field = control.closest(".field, .check");
        if (field) field.classList.toggle("has-error", hasError);
        if (hasError && !first && control.matches("input, textarea, select")) first = control;
      });
    });
    return first;
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.elt || event.detail.elt.id !== "batch-preview") return;
    var first = markFields();
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    var started = source && source.id === "batch-form";
    if (started && first) {
      first.focus();
      return;
    }
    // Refused for want of a (new) preview: it is here now, and the next press starts it.
    var start = document.getElementById("start-batch");
    if (started && document.getElementById("preview_token-error") && start && !start.disabled) {
      start.focus();
      return;
    }
    // The preview is under the form: on a small screen, bring its start into view.
    var preview = document.getElementById("batch-preview");
    var top = preview.getBoundingClientRect().top;
    if (top > window.innerHeight * 0.75 || top < 0) {
      var smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      preview.scrollIntoView({ behavior: smooth ? "smooth" : "auto", block: "start" });
    }
  });
})();
