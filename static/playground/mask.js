// The mask painter: paint the area to change on a reference image.
(function () {
  "use strict";

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

  function init(root) {
    if (!root.querySelectorAll) return;
    root.querySelectorAll("[data-mask-editor]").forEach(function (editor) {
      if (!editor.maskEditor) editor.maskEditor = new MaskEditor(editor);
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
