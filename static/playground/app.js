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

  // -- mask painting ---------------------------------------------------------------
  // The painted layer is exported as the contract's mask: a PNG of the reference's
  // exact size, opaque everywhere except the painted area, which is transparent.
  function MaskEditor(root) {
    this.canvas = root.querySelector("[data-mask-canvas]");
    this.context = this.canvas.getContext("2d", { willReadFrequently: true });
    this.brush = root.querySelector("[data-mask-brush]");
    this.file = root.querySelector("[data-mask-file]");
    this.root = root;
    this.history = [];
    this.cursor = null;
    this.last = null;
    this.bind();
  }

  MaskEditor.prototype.scale = function () {
    return this.canvas.width / this.canvas.getBoundingClientRect().width;
  };

  MaskEditor.prototype.erasing = function () {
    var tool = this.root.querySelector("[data-mask-tool]:checked");
    return tool && tool.value === "erase";
  };

  MaskEditor.prototype.point = function (event) {
    var rect = this.canvas.getBoundingClientRect();
    var scale = this.scale();
    return { x: (event.clientX - rect.left) * scale, y: (event.clientY - rect.top) * scale };
  };

  MaskEditor.prototype.remember = function () {
    this.history.push(this.context.getImageData(0, 0, this.canvas.width, this.canvas.height));
    if (this.history.length > 20) this.history.shift();
  };

  MaskEditor.prototype.stroke = function (from, to) {
    var context = this.context;
    context.globalCompositeOperation = this.erasing() ? "destination-out" : "source-over";
    context.strokeStyle = context.fillStyle = "#e0245e";
    context.lineWidth = Number(this.brush.value) * this.scale();
    context.lineCap = context.lineJoin = "round";
    context.beginPath();
    context.moveTo(from.x, from.y);
    context.lineTo(to.x + 0.01, to.y);
    context.stroke();
  };

  MaskEditor.prototype.isEmpty = function () {
    var pixels = this.context.getImageData(0, 0, this.canvas.width, this.canvas.height).data;
    for (var i = 3; i < pixels.length; i += 4) {
      if (pixels[i] !== 0) return false;
    }
    return true;
  };

  MaskEditor.prototype.exportMask = function () {
    var file = this.file;
    // The painting replaces an uploaded mask, so what the server read of that no longer applies.
    var preview = this.root.querySelector("[data-mask-preview]");
    if (preview) preview.replaceChildren();
    if (this.isEmpty()) {
      file.value = "";
      return;
    }
    var mask = document.createElement("canvas");
    mask.width = this.canvas.width;
    mask.height = this.canvas.height;
    var context = mask.getContext("2d");
    context.fillStyle = "#000";
    context.fillRect(0, 0, mask.width, mask.height);
    context.globalCompositeOperation = "destination-out";
    context.drawImage(this.canvas, 0, 0);
    mask.toBlob(function (blob) {
      var transfer = new DataTransfer();
      transfer.items.add(new File([blob], "mask.png", { type: "image/png" }));
      file.files = transfer.files;
    }, "image/png");
  };

  MaskEditor.prototype.moveCursor = function (dx, dy) {
    var rect = this.canvas.getBoundingClientRect();
    if (!this.cursor) {
      this.cursor = document.createElement("span");
      this.cursor.className = "mask-cursor";
      this.canvas.parentNode.appendChild(this.cursor);
      this.cursorAt = { x: rect.width / 2, y: rect.height / 2 };
    }
    this.cursorAt.x = Math.max(0, Math.min(rect.width, this.cursorAt.x + dx));
    this.cursorAt.y = Math.max(0, Math.min(rect.height, this.cursorAt.y + dy));
    var size = Number(this.brush.value);
    this.cursor.style.width = this.cursor.style.height = size + "px";
    this.cursor.style.left = this.cursorAt.x - size / 2 + "px";
    this.cursor.style.top = this.cursorAt.y - size / 2 + "px";
  };

  MaskEditor.prototype.onKey = function (event) {
    var step = event.shiftKey ? 4 : 16;
    var moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[event.key]) {
      event.preventDefault();
      this.moveCursor(moves[event.key][0], moves[event.key][1]);
    } else if (event.key === " " || event.key === "Enter") {
      event.preventDefault();
      if (!this.cursor) this.moveCursor(0, 0);
      var scale = this.scale();
      var at = { x: this.cursorAt.x * scale, y: this.cursorAt.y * scale };
      this.remember();
      this.stroke(at, at);
      this.exportMask();
    }
  };

  MaskEditor.prototype.bind = function () {
    var self = this;
    var canvas = this.canvas;
    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      self.remember();
      self.last = self.point(event);
      self.stroke(self.last, self.last);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!self.last) return;
      var next = self.point(event);
      self.stroke(self.last, next);
      self.last = next;
    });
    function end() {
      if (!self.last) return;
      self.last = null;
      self.exportMask();
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("keydown", function (event) { self.onKey(event); });
    canvas.addEventListener("blur", function () {
      if (self.cursor) { self.cursor.remove(); self.cursor = null; }
    });
    this.root.querySelector("[data-mask-undo]").addEventListener("click", function () {
      var previous = self.history.pop();
      if (previous) { self.context.putImageData(previous, 0, 0); self.exportMask(); }
    });
    this.root.querySelector("[data-mask-clear]").addEventListener("click", function () {
      self.remember();
      self.context.clearRect(0, 0, canvas.width, canvas.height);
      self.exportMask();
    });
    // A mask chosen as a file replaces the painting, so the two never disagree.
    this.file.addEventListener("change", function () {
      self.history = [];
      self.context.clearRect(0, 0, canvas.width, canvas.height);
    });
  };

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

  function init(root) {
    if (root.querySelectorAll) {
      root.querySelectorAll("[data-mask-editor]").forEach(function (editor) {
        if (!editor.maskEditor) editor.maskEditor = new MaskEditor(editor);
      });
    }
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
