// The query page: YASGUI on this server's /sparql, the named queries as examples. A static file, so
// that the Content-Security-Policy can forbid inline scripts; its data comes from the page's
// #yasgui element (data-endpoint) and the JSON block #example-texts, which is never executed.
(function () {
  "use strict";
  const element = document.getElementById("yasgui");
  window.yasgui = new Yasgui(element, {
    requestConfig: { endpoint: new URL(element.dataset.endpoint, window.location).href, method: "POST" },
    copyEndpointOnNewTab: false,
    persistenceId: null,
  });
  const examples = JSON.parse(document.getElementById("example-texts").textContent);
  document.querySelectorAll("[data-query-name]").forEach(link => link.addEventListener("click", event => {
    event.preventDefault();
    window.yasgui.getTab().setQuery(examples[link.dataset.queryName]);
  }));
})();
