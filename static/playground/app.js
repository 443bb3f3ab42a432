// Small browser-side helpers. Everything else is server-rendered and swapped by htmx.
(function () {
  "use strict";

  // The counter turns red past the limit and the note beside Generate says by how much;
  // the prompt itself is never cut (the server refuses it with the same limit).
  function updateCounter(textarea) {
    var output = document.getElementById(textarea.dataset.counter);
    if (!output) return;
    var limit = Number(output.dataset.limit);
    var length = textarea.value.length;
    output.textContent = length + " / " + limit;
    output.classList.toggle("near-limit", length > limit * 0.9 && length <= limit);
    output.classList.toggle("is-over", length > limit);
    var note = document.getElementById("prompt-over");
    if (note) {
      note.textContent = length > limit ? note.dataset.template.replace("{extra}", length - limit) : "";
    }
  }

  // -- a field's error goes once what is typed or chosen is valid --------------------
  function isValid(field) {
    var textarea = field.querySelector("textarea");
    if (textarea) {
      var limit = Number(textarea.dataset.limit) || Infinity;
      return textarea.value.trim().length > 0 && textarea.value.length <= limit;
    }
    var url = field.querySelector("input[type=url]");
    if (url) return url.value.trim() === "" || /^https:\/\/[^\s/]+/i.test(url.value.trim());
    return Boolean(field.querySelector("input[type=radio]:checked"));
  }

  function clearError(field) {
    field.classList.remove("has-error");
    field.querySelectorAll(".error").forEach(function (message) {
      document.querySelectorAll("[aria-describedby~='" + message.id + "']").forEach(function (described) {
        var rest = described.getAttribute("aria-describedby").split(/\s+/).filter(function (id) { return id !== message.id; });
        if (rest.length) { described.setAttribute("aria-describedby", rest.join(" ")); } else { described.removeAttribute("aria-describedby"); }
      });
      message.remove();
    });
    field.querySelectorAll("[aria-invalid]").forEach(function (input) { input.removeAttribute("aria-invalid"); });
  }

  function clearErrorOnceValid(event) {
    var field = event.target.closest && event.target.closest("#compose .has-error:is([data-field], .field)");
    if (field && !field.matches("#references-field") && isValid(field)) clearError(field);
  }
  document.addEventListener("input", clearErrorOnceValid);
  document.addEventListener("change", clearErrorOnceValid);

  // -- size: the ratio or the pixel form of the same shape, as API options says -------
  document.addEventListener("change", function (event) {
    if (!event.target.matches("[data-size-form]")) return;
    var form = event.target.form;
    var checked = form && form.querySelector("input[name=size]:checked");
    var wanted = event.target.value === "pixels" ? /x/ : /:/;
    if (checked && !wanted.test(checked.value)) {
      var other = form.querySelector("input[name=size][value='" + checked.dataset.otherForm + "']");
      if (other) other.checked = true;
    }
  });

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
    var header = document.querySelector(".site-header");
    var covered = header && getComputedStyle(header).position === "sticky" ? header.getBoundingClientRect().bottom : 0;
    var top = result.getBoundingClientRect().top;
    if (top < covered || top > window.innerHeight * 0.6) {
      var smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      result.scrollIntoView({ behavior: smooth ? "smooth" : "auto", block: "start" });
    }
  }

  // -- time left: counts down each second between two polls ------------------------
  function countDown() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (element) {
      if (!element.dataset.shownAt) element.dataset.shownAt = String(now);
      var elapsed = (now - Number(element.dataset.shownAt)) / 1000;
      var left = Math.max(0, Math.round(Number(element.dataset.countdown) - elapsed));
      var text = left > 0 ? element.dataset.template.replace("{seconds}", left) : element.dataset.finishing;
      if (element.textContent !== text) element.textContent = text;
    });
  }
  window.setInterval(countDown, 1000);

  // -- finished while the tab was hidden: the title says so, and a notification if allowed
  var NOTIFY_KEY = "playground-notify";
  var baseTitle = document.title;
  var doneWhileHidden = 0;
  var wasRunning = {}; // the person's own generations seen in History: id -> running then

  function notificationsWanted() {
    return "Notification" in window && Notification.permission === "granted" &&
      window.localStorage.getItem(NOTIFY_KEY) === "on";
  }

  function showNotifyToggle() {
    var button = document.getElementById("notify-toggle");
    if (!button) return;
    button.hidden = !("Notification" in window) || Notification.permission === "denied";
    button.setAttribute("aria-pressed", String(notificationsWanted()));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-notify]");
    if (!button) return;
    if (notificationsWanted()) {
      window.localStorage.setItem(NOTIFY_KEY, "off");
      showNotifyToggle();
      return;
    }
    Notification.requestPermission().then(function (permission) {
      window.localStorage.setItem(NOTIFY_KEY, permission === "granted" ? "on" : "off");
      showNotifyToggle();
    });
  });

  function announceFinished(item) {
    var panel = document.getElementById("history");
    doneWhileHidden += 1;
    document.title = panel.dataset.doneTitle.replace("{count}", doneWhileHidden).replace("{title}", baseTitle);
    if (!notificationsWanted()) return;
    var thumb = item.querySelector(".thumbs img");
    var notification = new Notification(item.dataset.statusLabel, {
      body: item.querySelector(".history-prompt").textContent.trim(),
      tag: item.dataset.generation,
      icon: thumb ? thumb.src : undefined,
    });
    notification.onclick = function () {
      window.focus();
      var link = document.getElementById("open-" + item.dataset.generation);
      if (link) link.click();
      notification.close();
    };
  }

  function noteFinished() {
    document.querySelectorAll("#history .history-item[data-mine]").forEach(function (item) {
      var id = item.dataset.generation;
      var running = item.classList.contains("is-running");
      if (wasRunning[id] && !running && document.hidden) announceFinished(item);
      wasRunning[id] = running;
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && doneWhileHidden) {
      doneWhileHidden = 0;
      document.title = baseTitle;
    }
  });

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

  // A hidden tab does not poll (cancel the timed request, and catch up once visible),
  // unless the person's own generation is running: its end is shown in the tab's title.
  function ownWorkRunning() {
    return Boolean(document.querySelector("#history .history-item.is-running[data-mine]"));
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    if (document.hidden && event.detail.elt.hasAttribute("data-poll") && !trigger && !ownWorkRunning()) {
      event.preventDefault();
    }
  });
  // A fragment refused with 403 means the session ended: reload, which leads to sign-in.
  // A poll answered 404 asked about a generation deleted meanwhile: its tile goes (and with it
  // the poll, which would otherwise ask again every turn).
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr.status === 403) {
      window.location.reload();
    } else if (event.detail.xhr.status === 404 && event.detail.elt.hasAttribute("data-poll")) {
      event.detail.elt.remove();
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
    noteFinished();
    showNotifyToggle();
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
    var summary = document.getElementById("history-summary");
    var announcer = document.getElementById("announcer");
    if (summary && announcer && announcer.dataset.last !== summary.textContent) {
      announcer.dataset.last = summary.textContent;
      announcer.textContent = summary.textContent;
    }
    // A batch's page, followed live, says its progress line once the batch has finished.
    var batchLine = document.querySelector("#batch-progress-line[data-finished]");
    if (batchLine && announcer && event.detail.target.id === "batch-status" && announcer.dataset.last !== batchLine.textContent) {
      announcer.dataset.last = batchLine.textContent;
      announcer.textContent = batchLine.textContent;
    }
  });

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && window.htmx) {
      htmx.trigger(document.body, "history-refresh");
    }
  });

  // After Generate, and after choosing a History item, the result is brought into view
  // (on a phone the stage is far above the History), once it has been swapped in.
  var revealPending = false;
  document.addEventListener("generation-queued", function () { revealPending = true; });
  document.addEventListener("htmx:afterSettle", function (event) {
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (source && source.classList && source.classList.contains("history-open")) revealPending = true;
    if (revealPending) {
      revealPending = false;
      revealResult();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    markSelected();
    noteFinished();
    showNotifyToggle();
    if (window.htmx) {
      htmx.onLoad(init);
    } else {
      init(document);
    }
  });
})();
