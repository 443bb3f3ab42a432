// -- lightbox ----------------------------------------------------------------------
// A link marked data-lightbox opens its image in the page's one <dialog id="lightbox">
// (templates/studio/lightbox.html), stepping through the links of its data-lightbox-group.
// The native modal dialog keeps focus inside and closes on Esc; without script the link
// simply opens the image.
(function () {
  "use strict";

  var dialog = null;
  var items = [];
  var at = 0;
  var opener = null;

  function show(index) {
    at = (index + items.length) % items.length;
    var item = items[at];
    var image = dialog.querySelector(".lightbox-image");
    image.src = item.href;
    image.alt = item.alt;
    dialog.querySelector("#lightbox-caption").textContent = item.alt;
    dialog.querySelector("#lightbox-count").textContent = dialog.dataset.count
      .replace("{index}", at + 1).replace("{total}", items.length);
    dialog.querySelectorAll("[data-lightbox-step]").forEach(function (button) {
      button.hidden = items.length < 2;
    });
  }

  function open(link) {
    var group = link.closest("[data-lightbox-group]");
    var links = group ? Array.prototype.slice.call(group.querySelectorAll("a[data-lightbox]")) : [link];
    // Copied now: the History panel may be swapped while the viewer is open.
    items = links.map(function (each) {
      var image = each.querySelector("img");
      return { href: each.getAttribute("href"), alt: image ? image.alt : each.textContent.trim() };
    });
    opener = link;
    show(links.indexOf(link));
    dialog.showModal();
  }

  // Back to the link that opened it, or to its copy if a live update replaced it
  // (found by id: the same image can be linked from the result panel and the History).
  function returnFocus() {
    if (opener && !opener.isConnected) {
      opener = (opener.id && document.getElementById(opener.id)) ||
        document.querySelector('a[data-lightbox][href="' + window.CSS.escape(opener.getAttribute("href")) + '"]');
    }
    if (opener) opener.focus();
    opener = null;
    dialog.querySelector(".lightbox-image").removeAttribute("src");
  }

  function onKey(event) {
    var moves = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: items.length - 1 };
    if (event.key in moves && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      show(moves[event.key]);
    }
  }

  document.addEventListener("click", function (event) {
    if (!dialog || event.defaultPrevented || event.button !== 0) return;
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return; // a new tab, as asked
    var link = event.target.closest && event.target.closest("a[data-lightbox]");
    if (!link) return;
    event.preventDefault();
    open(link);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var found = document.getElementById("lightbox");
    if (!found || typeof found.showModal !== "function") return;
    dialog = found;
    dialog.addEventListener("keydown", onKey);
    dialog.addEventListener("close", returnFocus);
    dialog.addEventListener("click", function (event) {
      var step = event.target.closest("[data-lightbox-step]");
      if (step) show(at + Number(step.dataset.lightboxStep));
      if (event.target === dialog) dialog.close(); // a click on the backdrop
    });
  });
})();
