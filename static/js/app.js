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

  // The pipelines list's source and destination filters (partials.refFilter) and the
  // pipeline form's source and destination (components.ComboboxField) are text fields
  // whose listbox htmx fills with matching names as one types. This makes each a
  // combobox: the arrows move through the names, Enter or a click picks one, Escape
  // closes the list. Picking fills the field and fires change, which reloads a filtered
  // list; in the form, Enter with no name chosen submits what was typed.
  function refListbox(input) {
    return document.getElementById(input.getAttribute("aria-controls"));
  }

  function refInputOf(list) {
    return list && list.id ? document.querySelector('[data-ref-filter][aria-controls="' + list.id + '"]') : null;
  }

  function refActivate(input, opt) {
    var list = refListbox(input);
    var current = list ? list.querySelector('[aria-selected="true"]') : null;
    if (current) {
      current.setAttribute("aria-selected", "false");
    }
    if (opt) {
      opt.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", opt.id);
      opt.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function refOpen(input, open) {
    var list = refListbox(input);
    if (!list) {
      return;
    }
    open = open && list.children.length > 0;
    list.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) {
      refActivate(input, null);
    }
  }

  function refPick(input, opt) {
    input.value = opt.getAttribute("data-value");
    input.setAttribute("data-ref-picked", input.value);
    refOpen(input, false);
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  // New suggestions: shown while their field has the focus, unless a name was picked
  // (or submitted with Enter) since the request left: a late answer must not reopen the
  // list over the result.
  document.addEventListener("htmx:afterSwap", function (evt) {
    var input = refInputOf(evt.detail.target);
    if (input) {
      refOpen(input, document.activeElement === input && input.getAttribute("data-ref-picked") !== input.value);
    }
  });

  document.addEventListener("input", function (evt) {
    if (evt.target.hasAttribute && evt.target.hasAttribute("data-ref-filter")) {
      evt.target.removeAttribute("data-ref-picked");
    }
  });

  document.addEventListener("keydown", function (evt) {
    var input = evt.target;
    if (!input.hasAttribute || !input.hasAttribute("data-ref-filter")) {
      return;
    }
    var list = refListbox(input);
    if (!list) {
      return;
    }
    var opts = Array.prototype.slice.call(list.querySelectorAll('[role="option"]:not([aria-disabled="true"])'));
    var current = list.hidden ? null : list.querySelector('[aria-selected="true"]');
    var i = opts.indexOf(current);
    switch (evt.key) {
      case "ArrowDown":
      case "ArrowUp":
        evt.preventDefault();
        refOpen(input, true);
        if (opts.length) {
          var down = evt.key === "ArrowDown";
          refActivate(input, opts[down ? (i + 1) % opts.length : i <= 0 ? opts.length - 1 : i - 1]);
        }
        break;
      case "Enter":
        if (current) {
          evt.preventDefault(); // pick the name; the form is not submitted with half of it
          refPick(input, current);
        } else {
          // the form is submitted with the name as typed: done choosing, as after a pick
          input.setAttribute("data-ref-picked", input.value);
          refOpen(input, false);
        }
        break;
      case "Escape":
        if (!list.hidden) {
          evt.preventDefault();
          refOpen(input, false);
        }
        break;
    }
  });

  // A press on a suggestion keeps the focus in the field: leaving it would fire change
  // with the half-typed text before the click picks the name.
  document.addEventListener("mousedown", function (evt) {
    if (evt.target.closest && evt.target.closest(".ref-options")) {
      evt.preventDefault();
    }
  });

  document.addEventListener("click", function (evt) {
    var opt = evt.target.closest ? evt.target.closest('.ref-options [role="option"]') : null;
    if (!opt || opt.getAttribute("aria-disabled") === "true") {
      return;
    }
    var input = refInputOf(opt.parentNode);
    if (input) {
      refPick(input, opt);
    }
  });

  document.addEventListener("focusout", function (evt) {
    if (evt.target.hasAttribute && evt.target.hasAttribute("data-ref-filter")) {
      refOpen(evt.target, false);
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
