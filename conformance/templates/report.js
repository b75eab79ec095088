// Filters of report.html: verdict, surface, feature, new or known. No network, no server: the page works from
// file://. Only elements of this page are read and shown or hidden; nothing from the report is evaluated.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) { return; }
  var count = document.getElementById("filter-count");
  function value(name) { return form.elements[name].value; }
  function matches(el, surfaceAware) {
    var verdict = value("verdict"), surface = value("surface"), known = value("known");
    if (verdict && el.getAttribute("data-verdict") !== verdict) { return false; }
    if (surfaceAware && surface && el.getAttribute("data-surface") !== surface) { return false; }
    if (known && el.getAttribute("data-known") !== known) { return false; }
    return true;
  }
  function apply() {
    var feature = value("feature"), surface = value("surface"), shown = 0, total = 0;
    document.querySelectorAll("[data-result]").forEach(function (el) {
      var ok = (!feature || el.getAttribute("data-feature") === feature) && matches(el, true);
      el.hidden = !ok;
      total += 1;
      if (ok) { shown += 1; }
    });
    document.querySelectorAll("tr[data-row]").forEach(function (row) {
      var cells = row.querySelectorAll("td[data-verdict]"), any = false;
      cells.forEach(function (cell) {
        var ok = matches(cell, true);
        cell.classList.toggle("dimmed", !ok);
        if (ok) { any = true; }
      });
      row.hidden = (feature && row.getAttribute("data-feature") !== feature) || !any;
    });
    document.querySelectorAll("th[data-surface], td[data-surface]").forEach(function (cell) {
      cell.classList.toggle("off", Boolean(surface) && cell.getAttribute("data-surface") !== surface);
    });
    count.textContent = shown + " of " + total + " results shown";
  }
  form.addEventListener("change", apply);
  form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
  apply();
}());
