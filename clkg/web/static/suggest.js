// The header's search box suggests concepts and studies as one types (/search/suggest, clkg/web/search.py):
// a <datalist> of their labels; choosing one goes to its page, anything else is searched as typed.
(function () {
  "use strict";
  var input = document.querySelector("header form[data-suggest] input[name=q]");
  if (!input) { return; }
  var form = input.form;
  var list = document.createElement("datalist");
  list.id = "search-suggestions";
  form.appendChild(list);
  input.setAttribute("list", list.id);
  input.setAttribute("autocomplete", "off");
  var urls = {};
  var timer = null;
  var asked = "";

  function fill(suggestions) {
    urls = {};
    list.replaceChildren();
    suggestions.forEach(function (s) {
      if (!s.url || urls[s.label]) { return; }
      urls[s.label] = s.url;
      var option = document.createElement("option");
      option.value = s.label;
      list.appendChild(option);
    });
  }

  function ask() {
    var q = input.value.trim();
    if (q.length < 2 || q === asked) { return; }
    asked = q;
    var url = form.getAttribute("data-suggest") + "?q=" + encodeURIComponent(q);
    fetch(url, { headers: { "Accept": "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : []; })
      .then(function (suggestions) { if (input.value.trim() === q) { fill(suggestions); } })
      .catch(function () { fill([]); });
  }

  input.addEventListener("input", function () {
    if (urls[input.value]) { window.location.href = urls[input.value]; return; }
    clearTimeout(timer);
    timer = setTimeout(ask, 150);
  });
})();
