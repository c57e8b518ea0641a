/* gongwei dashboard: sortable tables and the ECharts charts of an indicator page.
   A static file (no inline script: the CSP allows scripts from this host only); chart data comes from a
   <script type="application/json" id="chart-data"> element written by Django's json_script. */
(function () {
  "use strict";

  // --- sortable tables: th[data-sort="num"|"text"]; within each tbody the unit's own rows (tr.own) stay first
  function value(cell, type) {
    if (!cell) return null;
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
    if (type === "num") {
      var n = parseFloat(raw);
      return isNaN(n) ? null : n;
    }
    return raw === "" ? null : raw;
  }

  function sortBy(table, th) {
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var type = th.getAttribute("data-sort");
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th[aria-sort]").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    table.querySelectorAll("tbody").forEach(function (body) {
      var rows = Array.prototype.slice.call(body.rows);
      var fixed = rows.filter(function (r) { return r.classList.contains("own"); });
      var rest = rows.filter(function (r) { return !r.classList.contains("own"); });
      rest.sort(function (a, b) {
        var x = value(a.cells[index], type), y = value(b.cells[index], type);
        if (x === null && y === null) return 0;
        if (x === null) return 1;  // blanks last, whichever the direction
        if (y === null) return -1;
        var c = type === "num" ? x - y : String(x).localeCompare(String(y), "zh-CN");
        return ascending ? c : -c;
      });
      fixed.concat(rest).forEach(function (r) { body.appendChild(r); });
    });
  }

  function sortable(root) {
    root.querySelectorAll("table.sortable th[data-sort]").forEach(function (th) {
      if (th.hasAttribute("tabindex")) return;
      var table = th.closest("table");
      th.setAttribute("tabindex", "0");
      th.setAttribute("title", document.documentElement.dataset.sortHint || "点击排序");
      th.addEventListener("click", function () { sortBy(table, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, th); }
      });
    });
  }

  // --- charts (ECharts, SVG renderer: sharp when printed) ---------------------------------------------------
  var COLOURS = { met: "#2f855a", near: "#b7791f", far: "#c53030", "": "#66788a" };
  var FONT = '"Microsoft YaHei","PingFang SC","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif';

  function percentAxis() {
    return { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } };
  }

  function charts() {
    var source = document.getElementById("chart-data");
    if (!source || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    var words = data.words || { target: "目标", rate: "率" };  // in the page's language
    var made = [];
    var trendBox = document.getElementById("trend-chart");
    if (trendBox) {
      var trend = echarts.init(trendBox, null, { renderer: "svg" });
      var series = [{ name: data.unit, type: "line", data: data.trend.rates, connectNulls: true,
                      label: { show: true, formatter: "{c}%" }, itemStyle: { color: "#0b6e4f" } }];
      if (data.trend.targets.some(function (t) { return t !== null; })) {
        series.push({ name: words.target, type: "line", data: data.trend.targets, symbol: "none",
                      itemStyle: { color: COLOURS.far }, lineStyle: { type: "dashed", color: COLOURS.far } });
      }
      trend.setOption({ animation: false, textStyle: { fontFamily: FONT }, tooltip: { trigger: "axis" },
                        legend: { top: 0 }, grid: { left: 48, right: 24, top: 36, bottom: 32 },
                        xAxis: { type: "category", data: data.trend.labels }, yAxis: percentAxis(), series: series });
      made.push(trend);
    }
    var rankBox = document.getElementById("ranking-chart");
    if (rankBox) {
      var bars = data.ranking.rates.map(function (r, i) {
        return { value: r, itemStyle: { color: COLOURS[data.ranking.standing[i]] || COLOURS[""] } };
      });
      var bar = { name: words.rate, type: "bar", data: bars, label: { show: true, position: "right", formatter: "{c}%" } };
      if (data.target !== null) {
        bar.markLine = { symbol: "none", lineStyle: { type: "dashed", color: COLOURS.far },
                         label: { formatter: words.target + " " + data.target + "%" }, data: [{ xAxis: data.target }] };
      }
      var ranking = echarts.init(rankBox, null, { renderer: "svg" });
      ranking.setOption({ animation: false, textStyle: { fontFamily: FONT }, tooltip: { trigger: "axis" },
                          grid: { left: 8, right: 56, top: 24, bottom: 24, containLabel: true },
                          xAxis: percentAxis(), yAxis: { type: "category", data: data.ranking.labels },
                          series: [bar] });
      made.push(ranking);
    }
    window.addEventListener("resize", function () { made.forEach(function (c) { c.resize(); }); });
    window.addEventListener("beforeprint", function () { made.forEach(function (c) { c.resize(); }); });
    document.documentElement.setAttribute("data-charts", String(made.length));
  }

  function start() { sortable(document); charts(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  document.addEventListener("htmx:afterSwap", function (e) { sortable(e.target); });
})();
