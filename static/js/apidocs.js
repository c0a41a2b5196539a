// Boots Swagger UI on the /api/docs page (views/pages/apidocs.templ). Loaded deferred
// after static/vendor/swagger-ui-bundle.js; no inline script, as the CSP requires.
(function () {
  "use strict";

  // Swagger UI ships its own dark theme, keyed on html.dark-mode: follow the system,
  // as the rest of the console (Pico) does.
  var root = document.documentElement;
  var dark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  function applyScheme() {
    root.classList.toggle("dark-mode", !!(dark && dark.matches));
  }
  applyScheme();
  if (dark && dark.addEventListener) {
    dark.addEventListener("change", applyScheme);
  }

  var mount = document.getElementById("swagger-ui");
  if (!mount || typeof window.SwaggerUIBundle !== "function") {
    return;
  }

  // Swagger UI's BaseLayout wraps the operations in a <main>, inside the console's own
  // <main>: two main landmarks, one nested. This layout renders BaseLayout's tree with
  // that element turned into a <div> (everything else, and every later Swagger UI fix,
  // stays Swagger UI's own).
  function ConsoleLayoutPlugin(system) {
    var React = system.React;
    function demoteMain(el) {
      if (Array.isArray(el)) {
        return el.map(demoteMain);
      }
      if (!el || typeof el !== "object" || !el.props) {
        return el;
      }
      var kids = el.props.children === undefined ? undefined : demoteMain(el.props.children);
      if (el.type === "main") {
        var props = {};
        for (var k in el.props) {
          if (k !== "children" && k !== "tabIndex" && k !== "style") {
            props[k] = el.props[k];
          }
        }
        props.key = el.key;
        return React.createElement("div", props, kids);
      }
      return kids === undefined ? el : React.cloneElement(el, null, kids);
    }
    // getComponent hands out BaseLayout wrapped (an error boundary rendering the
    // original): render through the wrappers down to BaseLayout's own tree.
    function expand(el) {
      for (var i = 0; i < 5 && el && typeof el.type === "function"; i++) {
        el = el.type.prototype && el.type.prototype.render ? new el.type(el.props).render() : el.type(el.props);
      }
      return el;
    }
    function ConsoleLayout(props) {
      return demoteMain(expand(React.createElement(props.getComponent("BaseLayout"), props)));
    }
    return { components: { ConsoleLayout: ConsoleLayout } };
  }

  // What axe finds in Swagger UI's markup that a stylesheet cannot fix, fixed on the
  // rendered DOM (attributes only, which React leaves alone on later renders):
  // the server <select> has no name, and the API's title is a second <h1> under the
  // page's own.
  function fixMarkup() {
    var servers = mount.querySelector("select#servers");
    if (servers && !servers.hasAttribute("aria-label")) {
      servers.setAttribute("aria-label", "Server");
    }
    // Code samples and responses scroll sideways: reachable with the keyboard.
    var pres = mount.querySelectorAll("pre.microlight, .highlight-code pre, pre.example");
    for (var i = 0; i < pres.length; i++) {
      if (!pres[i].hasAttribute("tabindex")) {
        pres[i].setAttribute("tabindex", "0");
      }
    }
    var title = mount.querySelector(".info h1.title");
    if (title && title.getAttribute("aria-level") !== "2") {
      title.setAttribute("role", "heading");
      title.setAttribute("aria-level", "2");
    }
  }
  var pending = false;
  new MutationObserver(function () {
    if (!pending) {
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        fixMarkup();
      });
    }
  }).observe(mount, { childList: true, subtree: true });

  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";

  window.ui = window.SwaggerUIBundle({
    url: mount.getAttribute("data-openapi-url") || "/api/v1/openapi.json",
    domNode: mount,
    // Deep links put an <a href> inside each operation's toggle <button> (a link in a
    // button: axe's nested-interactive); without them the toggle is a plain button.
    deepLinking: false,
    presets: [window.SwaggerUIBundle.presets.apis],
    plugins: [ConsoleLayoutPlugin],
    layout: "ConsoleLayout",
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,
    // The highlighter paints each token with an inline colour chosen for looks, several
    // below 4.5:1 on its dark background; plain text reads in every theme.
    syntaxHighlight: false,
    // No third-party validator badge: the page must not call anything but this server.
    validatorUrl: null,
    // "Try it out" from a logged-in browser: same-origin writes carry the CSRF token, like
    // htmx requests do. API tokens go in through the Authorize button as usual.
    requestInterceptor: function (req) {
      var target;
      try {
        target = new URL(req.url, window.location.href);
      } catch (e) {
        return req;
      }
      var method = String(req.method || "GET").toUpperCase();
      if (csrf && target.origin === window.location.origin && method !== "GET" && method !== "HEAD") {
        req.headers = req.headers || {};
        req.headers["X-CSRF-Token"] = csrf;
      }
      return req;
    }
  });
})();
