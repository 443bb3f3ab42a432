// -- lightbox ----------------------------------------------------------------------
// A link marked data-lightbox opens its image in the page's one <dialog id="lightbox">
// (templates/studio/lightbox.html), stepping through the links of its data-lightbox-group
// with the arrows (buttons, keys or a swipe). Beside the image, a panel the server renders
// for each image: prompt, parameters, the image's actions and its lineage.
// The native modal dialog keeps focus inside and closes on Esc; without script the link
// simply opens the image.
(function () {
  "use strict";

  var dialog = null;
  var items = [];
  var at = 0;
  var opener = null;
  var asked = 0; // the latest panel asked for: an older answer arriving late is dropped
  var IMAGE_ID = /\/images\/([0-9a-f-]{36})\//;
  var SWIPE = 48; // px of sideways travel that count as a swipe
  var swiped = false; // the click that ends a swipe does not close the viewer

  function panelUrl(href) {
    var found = IMAGE_ID.exec(href);
    if (!found) return null;
    return dialog.dataset.panelUrl.replace("00000000-0000-0000-0000-000000000000", found[1]);
  }

  function loadPanel(href) {
    var panel = dialog.querySelector("#lightbox-panel");
    var url = panelUrl(href);
    var ticket = ++asked;
    panel.replaceChildren();
    if (!url) return;
    panel.setAttribute("aria-busy", "true");
    fetch(url, { headers: { "HX-Request": "true", "HX-Current-URL": window.location.href }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (ticket !== asked || !dialog.open) return;
        panel.innerHTML = html;
        if (window.htmx) window.htmx.process(panel);
      })
      .catch(function () { /* the image is still shown; its panel stays empty */ })
      .finally(function () { if (ticket === asked) panel.removeAttribute("aria-busy"); });
  }

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
    loadPanel(item.href);
  }

  // `link` is the data-lightbox link of the image to show; `from` what to give focus back to.
  function open(link, from) {
    var group = link.closest("[data-lightbox-group]");
    var links = group ? Array.prototype.slice.call(group.querySelectorAll("a[data-lightbox]")) : [link];
    if (links.indexOf(link) < 0) links = [link];
    // Copied now: the History panel may be swapped while the viewer is open.
    items = links.map(function (each) {
      var image = each.querySelector("img");
      return { href: each.getAttribute("href"), alt: image ? image.alt : each.textContent.trim() };
    });
    opener = from || link;
    show(links.indexOf(link));
    dialog.showModal();
  }

  // An "open large" action: the image's own data-lightbox link when the page has one (so the
  // arrows step through its group), else this link alone, showing the image of the tile.
  function openFromAction(action) {
    var href = action.getAttribute("href");
    var scope = action.closest("[data-lightbox-group]") || document;
    var own = Array.prototype.find.call(scope.querySelectorAll("a[data-lightbox]"), function (link) {
      return link.getAttribute("href") === href;
    });
    if (own) return open(own, action);
    var tile = action.closest("li");
    var image = tile && tile.querySelector("img");
    items = [{ href: href, alt: image ? image.alt : "" }];
    opener = action;
    show(0);
    dialog.showModal();
  }

  // Back to what opened it, or to its copy if a live update replaced it
  // (found by id: the same image can be linked from the result panel and the History).
  function returnFocus() {
    if (opener && !opener.isConnected) {
      opener = (opener.id && document.getElementById(opener.id)) ||
        document.querySelector('a[data-lightbox][href="' + window.CSS.escape(opener.getAttribute("href")) + '"]');
    }
    if (opener) opener.focus();
    opener = null;
    asked++;
    dialog.querySelector(".lightbox-image").removeAttribute("src");
    dialog.querySelector("#lightbox-panel").replaceChildren();
  }

  // Tab from the last control comes round to the first (and back): a modal dialog alone
  // would let the focus leave for the browser's own controls.
  function keepFocusInside(event) {
    var focusable = Array.prototype.filter.call(
      dialog.querySelectorAll("a[href], button:not([disabled]), input:not([type=hidden]), [tabindex]:not([tabindex='-1'])"),
      function (element) { return element.getClientRects().length > 0; }
    );
    if (!focusable.length) return;
    var first = focusable[0];
    var last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  function onKey(event) {
    if (event.key === "Tab") return keepFocusInside(event);
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    // Keys typed into a field or pressed on a control of the panel are theirs.
    if (event.target.closest && event.target.closest("input, textarea, select")) return;
    var moves = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: items.length - 1 };
    if (event.key in moves && items.length > 1) {
      event.preventDefault();
      show(moves[event.key]);
    }
  }

  // A swipe on the image steps like the arrows; a tap or a vertical drag does nothing.
  function watchSwipes(stage) {
    var start = null;
    stage.addEventListener("pointerdown", function (event) {
      if (event.pointerType === "mouse" || event.target.closest("button, a")) return;
      start = { x: event.clientX, y: event.clientY };
    });
    stage.addEventListener("pointercancel", function () { start = null; });
    stage.addEventListener("pointerup", function (event) {
      if (!start || items.length < 2) { start = null; return; }
      var dx = event.clientX - start.x;
      var dy = event.clientY - start.y;
      start = null;
      swiped = Math.abs(dx) >= SWIPE && Math.abs(dx) > Math.abs(dy) * 1.5;
      if (swiped) show(at + (dx < 0 ? 1 : -1));
    });
  }

  document.addEventListener("click", function (event) {
    if (!dialog || event.defaultPrevented || event.button !== 0) return;
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return; // a new tab, as asked
    var action = event.target.closest && event.target.closest("a[data-lightbox-open]");
    var link = event.target.closest && event.target.closest("a[data-lightbox]");
    if (!action && !link) return;
    event.preventDefault();
    if (action) openFromAction(action);
    else open(link);
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
      if (event.target.closest("[data-closes-viewer]")) dialog.close(); // its work goes on in the page
      // A click on the dark around the image, as on a backdrop.
      var around = event.target === dialog || event.target.matches(".lightbox-stage, .lightbox-figure");
      if (around && !swiped) dialog.close();
      swiped = false;
    });
    watchSwipes(dialog.querySelector(".lightbox-stage"));
  });
})();
