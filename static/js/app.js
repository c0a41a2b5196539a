// Rosetta console behaviour, loaded (deferred, after htmx) on every page.
//
// The Content-Security-Policy forbids inline scripts and inline event handlers, so every
// behaviour the markup needs lives here, wired by event delegation on document. Every
// page also works without this file: it only makes things smoother.
(function () {
  "use strict";

  var CSRF_HEADER = "X-CSRF-Token";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Plain forms carry the CSRF token in a hidden field; htmx requests carry it in a header,
  // read from the meta tag at request time so a rotated token is picked up.
  document.addEventListener("htmx:configRequest", function (evt) {
    var verb = String(evt.detail.verb || "get").toUpperCase();
    if (verb === "GET" || verb === "HEAD") {
      return;
    }
    var token = csrfToken();
    if (token) {
      evt.detail.headers[CSRF_HEADER] = token;
    }
  });

  // aria-busy on the element that started a request: Pico draws a spinner on busy
  // buttons and links, and assistive technology announces the wait.
  function busyTarget(evt) {
    var elt = evt.detail.elt;
    if (elt && elt.tagName === "FORM") {
      var cfg = evt.detail.requestConfig;
      var submitter = cfg && cfg.triggeringEvent && cfg.triggeringEvent.submitter;
      return submitter || elt.querySelector('[type="submit"]') || elt;
    }
    return elt;
  }

  document.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = busyTarget(evt);
    if (elt) {
      elt.setAttribute("aria-busy", "true");
      evt.detail.rosettaBusy = elt;
    }
  });

  document.addEventListener("htmx:afterRequest", function (evt) {
    var elt = evt.detail.rosettaBusy || busyTarget(evt);
    if (elt) {
      elt.removeAttribute("aria-busy");
    }
  });

  // Failures are never silent: a request that never reached the server, or an error
  // answer without a body to show, becomes a flash message. (Error answers with a body
  // are swapped in, see responseHandling in the layout's htmx-config.)
  var FLASH_LABELS = { success: "Success: ", error: "Error: ", warning: "Warning: ", info: "Note: " };

  function flash(kind, message) {
    var region = document.getElementById("flash");
    if (!region) {
      return;
    }
    var item = document.createElement("div");
    item.className = "flash flash-" + kind;
    item.setAttribute("data-kind", kind);
    var label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = FLASH_LABELS[kind] || "";
    var text = document.createElement("p");
    text.textContent = message;
    text.prepend(label);
    item.appendChild(text);
    region.replaceChildren(item);
  }

  document.addEventListener("htmx:sendError", function () {
    flash("error", "The server could not be reached. Check your connection and try again.");
  });

  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr && !xhr.responseText) {
      flash("error", "The request failed (" + xhr.status + (xhr.statusText ? " " + xhr.statusText : "") + ").");
    }
  });

  // After htmx re-renders a form with errors (422), put the keyboard where the problem is.
  document.addEventListener("htmx:afterSettle", function (evt) {
    // The event fires on what was swapped in; after an outerHTML swap detail.target is
    // the element that was replaced, no longer in the document.
    var target = evt.detail.target && evt.detail.target.isConnected ? evt.detail.target : evt.target;
    if (!target || !target.querySelector) {
      return;
    }
    var invalid = target.querySelector('[aria-invalid="true"]');
    if (invalid && typeof invalid.focus === "function") {
      invalid.focus();
    }
  });

  // Pico's <details class="dropdown"> menus stay open until toggled; close them on a click
  // elsewhere or on Escape, as a menu should.
  function closeDropdowns(except) {
    var open = document.querySelectorAll("details.dropdown[open]");
    for (var i = 0; i < open.length; i++) {
      if (open[i] !== except) {
        open[i].removeAttribute("open");
      }
    }
  }

  document.addEventListener("click", function (evt) {
    var inside = evt.target.closest ? evt.target.closest("details.dropdown") : null;
    closeDropdowns(inside);
  });

  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Escape") {
      return;
    }
    var open = document.querySelector("details.dropdown[open]");
    if (open) {
      open.removeAttribute("open");
      var summary = open.querySelector("summary");
      if (summary) {
        summary.focus();
      }
    }
  });
})();
