/* Starts Swagger UI on the API docs page from the JSON configuration the page carries (#swagger-config).
   A static file, so the page needs no inline script under the site's Content-Security-Policy. */
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("swagger-config").textContent);
  const ui = SwaggerUIBundle({
    url: config.url,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    ...config.settings,
  });
  ui.initOAuth(config.oauth2);
})();
