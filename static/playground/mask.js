// The mask painter: paint the area to change on a reference image, in a full-size
// dialog (templates/studio/mask_painter.html) opened from the mask field.
(function () {
  "use strict";

  var HISTORY = 20; // undo steps kept: each is a full copy of the painted layer

  // -- mask painting ---------------------------------------------------------------
  // The painted layer is exported as the contract's mask: a PNG of the reference's
  // exact size, opaque everywhere except the painted area, which is transparent.
  function MaskEditor(root) {
    this.root = root;
    this.dialog = root.querySelector("[data-mask-painter]");
    this.stage = root.querySelector("[data-mask-stage]");
    this.frame = root.querySelector("[data-mask-frame]");
    this.canvas = root.querySelector("[data-mask-canvas]");
    this.context = this.canvas.getContext("2d", { willReadFrequently: true });
    this.brush = root.querySelector("[data-mask-brush]");
    this.brushValue = root.querySelector("[data-mask-brush-value]");
    this.outline = root.querySelector("[data-mask-outline]");
    this.file = root.querySelector("[data-mask-file]");
    this.painted = root.querySelector("[data-mask-painted]");
    this.opener = root.querySelector("[data-mask-open]");
    this.undos = [];
    this.redos = [];
    this.last = null;
    this.at = null; // where the brush is, in CSS pixels of the frame
    this.bind();
    this.showBrushSize();
  }

  // -- the dialog ------------------------------------------------------------------

  MaskEditor.prototype.open = function () {
    if (this.dialog.open) return;
    // What Cancel (or Esc) goes back to.
    this.saved = { layer: this.snapshot(), undos: this.undos.slice(), redos: this.redos.slice() };
    this.changed = false;
    this.accepted = false;
    this.dialog.showModal();
    this.fit();
    this.updateButtons();
    this.canvas.focus();
  };

  // Done: the painting becomes the form's mask, shown in the composer as the server reads it.
  MaskEditor.prototype.done = function () {
    var self = this;
    this.accepted = true;
    if (!this.changed) {
      this.dialog.close();
      return;
    }
    this.exportMask(function () {
      self.dialog.close();
    });
  };

  MaskEditor.prototype.onClose = function () {
    this.hideOutline();
    if (!this.accepted && this.saved) {
      this.context.putImageData(this.saved.layer, 0, 0);
      this.undos = this.saved.undos;
      this.redos = this.saved.redos;
    }
    this.saved = null;
    if (this.opener && this.opener.isConnected) this.opener.focus();
  };

  // The image fitted to the space the dialog leaves for it, keeping its proportions.
  MaskEditor.prototype.fit = function () {
    if (!this.dialog.open) return;
    var room = this.stage.getBoundingClientRect();
    var style = window.getComputedStyle(this.stage);
    var width = room.width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    var height = room.height - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    var scale = Math.min(width / this.canvas.width, height / this.canvas.height);
    if (!(scale > 0)) return;
    this.frame.style.width = Math.floor(this.canvas.width * scale) + "px";
    this.frame.style.height = Math.floor(this.canvas.height * scale) + "px";
  };

  // -- painting --------------------------------------------------------------------

  MaskEditor.prototype.scale = function () {
    return this.canvas.width / this.canvas.getBoundingClientRect().width;
  };

  MaskEditor.prototype.erasing = function () {
    var tool = this.root.querySelector("[data-mask-tool]:checked");
    return tool && tool.value === "erase";
  };

  MaskEditor.prototype.framePoint = function (event) {
    var rect = this.canvas.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  };

  MaskEditor.prototype.canvasPoint = function (at) {
    var scale = this.scale();
    return { x: at.x * scale, y: at.y * scale };
  };

  MaskEditor.prototype.snapshot = function () {
    return this.context.getImageData(0, 0, this.canvas.width, this.canvas.height);
  };

  MaskEditor.prototype.remember = function () {
    this.undos.push(this.snapshot());
    if (this.undos.length > HISTORY) this.undos.shift();
    this.redos = [];
    this.changed = true;
    this.updateButtons();
  };

  MaskEditor.prototype.step = function (from, to) {
    var previous = from.pop();
    if (!previous) return;
    to.push(this.snapshot());
    this.context.putImageData(previous, 0, 0);
    this.changed = true;
    this.updateButtons();
  };

  MaskEditor.prototype.undo = function () { this.step(this.undos, this.redos); };
  MaskEditor.prototype.redo = function () { this.step(this.redos, this.undos); };

  MaskEditor.prototype.clear = function () {
    if (this.isEmpty()) return;
    this.remember();
    this.context.clearRect(0, 0, this.canvas.width, this.canvas.height);
  };

  MaskEditor.prototype.updateButtons = function () {
    this.root.querySelector("[data-mask-undo]").disabled = this.undos.length === 0;
    this.root.querySelector("[data-mask-redo]").disabled = this.redos.length === 0;
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
    var pixels = this.snapshot().data;
    for (var i = 3; i < pixels.length; i += 4) {
      if (pixels[i] !== 0) return false;
    }
    return true;
  };

  MaskEditor.prototype.exportMask = function (then) {
    var file = this.file;
    var painted = this.painted;
    var preview = this.root.querySelector("[data-mask-preview]");
    if (this.isEmpty()) {
      file.value = "";
      painted.value = "";
      // The painting replaces an uploaded mask, so what the server read of that no longer applies.
      if (preview) preview.replaceChildren();
      then();
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
      transfer.items.add(new File([blob], "painted-mask.png", { type: "image/png" }));
      file.files = transfer.files;
      painted.value = "1";
      then();
      // The server shows the area as it reads it, as it does for an uploaded mask.
      if (window.htmx) htmx.trigger(file, "mask-painted");
    }, "image/png");
  };

  // -- the brush outline: at the brush's true size, where it would paint -----------

  MaskEditor.prototype.showBrushSize = function () {
    if (this.brushValue) this.brushValue.textContent = this.brush.value + " px";
    if (this.at) this.moveOutline(this.at);
  };

  MaskEditor.prototype.moveOutline = function (at) {
    var size = Number(this.brush.value);
    this.at = at;
    this.outline.hidden = false;
    this.outline.style.width = this.outline.style.height = size + "px";
    this.outline.style.left = at.x - size / 2 + "px";
    this.outline.style.top = at.y - size / 2 + "px";
  };

  MaskEditor.prototype.hideOutline = function () {
    this.outline.hidden = true;
  };

  MaskEditor.prototype.moveBy = function (dx, dy) {
    var rect = this.canvas.getBoundingClientRect();
    var at = this.at || { x: rect.width / 2, y: rect.height / 2 };
    this.moveOutline({
      x: Math.max(0, Math.min(rect.width, at.x + dx)),
      y: Math.max(0, Math.min(rect.height, at.y + dy)),
    });
  };

  MaskEditor.prototype.onCanvasKey = function (event) {
    var step = event.shiftKey ? 4 : 16;
    var moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[event.key]) {
      event.preventDefault();
      this.moveBy(moves[event.key][0], moves[event.key][1]);
    } else if (event.key === " " || event.key === "Enter") {
      event.preventDefault();
      if (!this.at || this.outline.hidden) this.moveBy(0, 0);
      var at = this.canvasPoint(this.at);
      this.remember();
      this.stroke(at, at);
    }
  };

  // Ctrl+Z / Ctrl+Shift+Z (or Ctrl+Y) anywhere in the dialog, ⌘ on a Mac.
  MaskEditor.prototype.onDialogKey = function (event) {
    if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
    var key = event.key.toLowerCase();
    if (key === "z" && !event.shiftKey) {
      event.preventDefault();
      this.undo();
    } else if (key === "y" || (key === "z" && event.shiftKey)) {
      event.preventDefault();
      this.redo();
    }
  };

  MaskEditor.prototype.bind = function () {
    var self = this;
    var canvas = this.canvas;
    function on(selector, type, handler) {
      var element = self.root.querySelector(selector);
      if (element) element.addEventListener(type, handler);
    }
    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      self.remember();
      var at = self.framePoint(event);
      self.moveOutline(at);
      self.last = self.canvasPoint(at);
      self.stroke(self.last, self.last);
    });
    canvas.addEventListener("pointermove", function (event) {
      var at = self.framePoint(event);
      self.moveOutline(at);
      if (!self.last) return;
      var next = self.canvasPoint(at);
      self.stroke(self.last, next);
      self.last = next;
    });
    function end() { self.last = null; }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("pointerleave", function (event) {
      if (event.pointerType !== "mouse" || document.activeElement !== canvas) self.hideOutline();
    });
    canvas.addEventListener("keydown", function (event) { self.onCanvasKey(event); });
    canvas.addEventListener("focus", function () { self.moveBy(0, 0); });
    canvas.addEventListener("blur", function () { self.hideOutline(); });
    this.brush.addEventListener("input", function () { self.showBrushSize(); });
    this.dialog.addEventListener("keydown", function (event) { self.onDialogKey(event); });
    this.dialog.addEventListener("close", function () { self.onClose(); });
    if (window.ResizeObserver) new ResizeObserver(function () { self.fit(); }).observe(this.stage);
    on("[data-mask-open]", "click", function () { self.open(); });
    on("[data-mask-done]", "click", function () { self.done(); });
    on("[data-mask-cancel]", "click", function () { self.dialog.close(); });
    on("[data-mask-undo]", "click", function () { self.undo(); });
    on("[data-mask-redo]", "click", function () { self.redo(); });
    on("[data-mask-clear]", "click", function () { self.clear(); });
    // A mask chosen as a file replaces the painting, so the two never disagree.
    this.file.addEventListener("change", function () {
      self.undos = [];
      self.redos = [];
      self.painted.value = "";
      self.context.clearRect(0, 0, canvas.width, canvas.height);
    });
  };

  function init(root) {
    if (!root.querySelectorAll) return;
    var editors = Array.prototype.slice.call(root.querySelectorAll("[data-mask-editor]"));
    if (root.matches && root.matches("[data-mask-editor]")) editors.push(root);
    editors.forEach(function (editor) {
      if (!editor.maskEditor) editor.maskEditor = new MaskEditor(editor);
      // "Edit a region" on an image: the painter opens at once, once.
      if (editor.hasAttribute("data-open-on-load")) {
        editor.removeAttribute("data-open-on-load");
        editor.maskEditor.open();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (window.htmx) {
      htmx.onLoad(init);
    } else {
      init(document);
    }
  });
})();
