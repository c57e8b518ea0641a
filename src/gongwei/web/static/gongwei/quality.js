/* Data-quality pages: sortable tables and "select all" on the findings list. No inline scripts (CSP). */
(function () {
  "use strict";
  function value(cell) {
    var raw = cell.getAttribute("data-sort");
    var text = raw !== null ? raw : cell.textContent.trim();
    var n = parseFloat(text.replace(/,/g, ""));
    return isNaN(n) || !/^[-+]?[\d,.]+/.test(text) ? text : n;
  }
  function sortBy(table, index, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var asc = th.getAttribute("aria-sort") !== "ascending";
    rows.sort(function (a, b) {
      var x = value(a.cells[index]), y = value(b.cells[index]);
      if (x === "" && y !== "") return 1;
      if (y === "" && x !== "") return -1;
      var r = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), "zh-CN");
      return asc ? r : -r;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    if (!table.tHead) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      if (th.querySelector("input")) return;
      th.classList.add("sorter");
      th.title = document.documentElement.dataset.sortHint || "点击排序";
      th.addEventListener("click", function () { sortBy(table, i, th); });
    });
  });
  var all = document.getElementById("check-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name=finding]").forEach(function (box) { box.checked = all.checked; });
    });
  }
})();
