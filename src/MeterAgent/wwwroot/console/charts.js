// MeterAgent web console: draws each chart from its JSON data island (<script type="application/json">) with the
// vendored uPlot. No inline script anywhere: the page's CSP allows scripts from this origin only. The tables beside
// the charts carry the same figures, so a browser without scripts loses nothing but the picture.
(function () {
  "use strict";

  var palette = ["#0b57d0", "#e37400", "#146c2e", "#b3261e", "#7b1fa2", "#00838f", "#5d4037", "#455a64"];

  function draw(area) {
    var island = document.getElementById(area.getAttribute("data-chart"));
    if (!island || typeof uPlot === "undefined") {
      return;
    }

    var data;
    try {
      data = JSON.parse(island.textContent);
    } catch (e) {
      return;
    }

    var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    var axis = { stroke: dark ? "#b0b6bf" : "#4a5260", grid: { stroke: dark ? "#3a3f47" : "#e3e6eb" } };
    var series = [{}];
    var columns = [data.x];
    data.series.forEach(function (s, i) {
      series.push({ label: s.label, stroke: palette[i % palette.length], width: 2, dash: i === 1 && data.series.length === 2 ? [6, 4] : undefined, spanGaps: false });
      columns.push(s.values);
    });

    var width = Math.max(280, area.clientWidth);
    var plot = new uPlot({
      width: width,
      height: Math.round(Math.min(320, Math.max(200, width * 0.45))),
      series: series,
      axes: [Object.assign({}, axis), Object.assign({ label: data.yLabel, size: 70 }, axis)],
      scales: { x: { time: true } }
    }, columns, area);

    var resize = function () {
      plot.setSize({ width: Math.max(280, area.clientWidth), height: plot.height });
    };
    window.addEventListener("resize", resize);
  }

  function start() {
    var areas = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < areas.length; i++) {
      draw(areas[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
