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

  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";

  window.ui = window.SwaggerUIBundle({
    url: mount.getAttribute("data-openapi-url") || "/api/v1/openapi.json",
    domNode: mount,
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,
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
