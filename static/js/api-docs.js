// Starts the vendored Swagger UI on /api/docs (a file, not inline code: the CSP allows only
// scripts from this site). Without JavaScript the server-rendered list and guide stay.
(function () {
  "use strict";
  var root = document.getElementById("api-reference");
  if (!root || !window.SwaggerUIBundle) { return; }
  window.SwaggerUIBundle({
    url: root.getAttribute("data-url"),
    domNode: root,
    layout: "BaseLayout",
    presets: [window.SwaggerUIBundle.presets.apis],
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    validatorUrl: null,
    onComplete: function () {
      document.getElementById("api-fallback").hidden = true;
    }
  });
})();
