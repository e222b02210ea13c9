// Starts Swagger UI (served from the sidecar package, no CDN) without an inline script: the
// schema URL and the CSRF header come from data attributes of #swagger-ui.
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    requestInterceptor: function (request) {
      // A session user trying a POST from the page needs Django's CSRF header.
      if (request.method && request.method !== "GET") {
        request.headers[root.dataset.csrfHeader] = root.dataset.csrfToken;
      }
      return request;
    },
  });
})();
