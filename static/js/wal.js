// The WAL charts: /sources/{id}/wal's uPlot chart (#wal-chart) and the pipeline page's
// compact chart of its source's last 24 hours (#wal-mini-chart, drawn over the server's
// SVG sparkline, which is what readers without JavaScript see). Each reads its series
// from its data-series attribute (CSP forbids inline scripts), then goes live: every
// sample the server-sent event stream delivers is appended without a reload. Points are
// appended with setData(data, false) while the user is zoomed in, so the zoom survives
// updates; when not zoomed the chart follows the newest sample.
(function () {
  "use strict";

  if (typeof uPlot === "undefined") {
    return;
  }

  var UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  function bytes(v) {
    if (v == null || isNaN(v)) {
      return "—";
    }
    var n = Math.abs(v), i = 0;
    while (n >= 1024 && i < UNITS.length - 1) {
      n /= 1024;
      i++;
    }
    var s = (i === 0 ? String(Math.round(n)) : n.toFixed(n >= 100 ? 0 : 1)) + " " + UNITS[i];
    return v < 0 ? "-" + s : s;
  }
  function rate(v) {
    return v == null ? "—" : bytes(v) + "/s";
  }

  // draw charts el; compact: the retained WAL and the threshold only, shorter.
  function draw(el, compact, live) {
    var height = compact ? 140 : 320;
    var series;
    try {
      series = JSON.parse(el.getAttribute("data-series") || "{}");
    } catch (e) {
      return;
    }
    var threshold = Number(el.getAttribute("data-threshold")) || null;

    // Columns: time (s), growth rate (B/s), cumulative growth since the first point (B),
    // retained by the slot (B), the threshold (B).
    var t = [], growth = [], cumulative = [], retained = [], limit = [];
    var first = null, prevT = null, prevSize = null, lastID = 0;

    function push(ts, size, ret, id) {
      if (first === null) {
        first = size;
      }
      var g = null;
      if (prevT !== null && ts > prevT && size >= prevSize) {
        g = (size - prevSize) / (ts - prevT);
      }
      t.push(ts);
      growth.push(g);
      cumulative.push(size - first);
      retained.push(ret == null ? null : ret);
      limit.push(threshold);
      prevT = ts;
      prevSize = size;
      lastID = Math.max(lastID, id || 0);
    }
    (series.t || []).forEach(function (ts, i) {
      push(ts, series.size[i], series.retained[i], series.ids[i]);
    });

    function data() {
      return compact ? [t, retained, limit] : [t, growth, cumulative, retained, limit];
    }

    var retainedSeries = { label: "Retained by slot", scale: "bytes", stroke: "#ef6c00", width: 2, value: function (u, v) { return bytes(v); } };
    var thresholdSeries = { label: "Threshold", scale: "bytes", stroke: "#c62828", dash: [6, 4], value: function (u, v) { return bytes(v); } };
    var bytesAxis = { scale: "bytes", size: 80, values: function (u, vals) { return vals.map(bytes); } };
    var opts = {
      width: Math.max(el.clientWidth, 280),
      height: height,
      scales: { x: { time: true }, bytes: {}, rate: {} },
      series: compact ? [
        { value: "{YYYY}-{MM}-{DD} {HH}:{mm}" }, retainedSeries, thresholdSeries
      ] : [
        { value: "{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}" },
        { label: "Growth", scale: "rate", stroke: "#1e6fd9", width: 2, value: function (u, v) { return rate(v); } },
        { label: "Cumulative growth", scale: "bytes", stroke: "#2e7d32", value: function (u, v) { return bytes(v); } },
        retainedSeries, thresholdSeries
      ],
      axes: compact ? [{}, bytesAxis] : [
        {},
        bytesAxis,
        { scale: "rate", side: 1, size: 90, grid: { show: false }, values: function (u, vals) { return vals.map(rate); } }
      ],
      cursor: { drag: { x: true, y: false } },
      hooks: {
        // The visible x range, on the element: what a zoom changed, for anyone to check.
        setScale: [function (u, key) {
          if (key === "x") {
            el.setAttribute("data-x-min", String(u.scales.x.min));
            el.setAttribute("data-x-max", String(u.scales.x.max));
          }
        }]
      }
    };
    // uPlot replaces the server's drawing (kept for readers without JavaScript).
    var fallback = el.querySelector("svg.sparkline");
    if (fallback) {
      fallback.remove();
    }
    var chart = new uPlot(opts, data(), el);
    el.uplot = chart; // for the browser tests and for anyone debugging in the console
    el.setAttribute("data-points", String(t.length));

    // zoomed: the user narrowed the x range to less than the data spans.
    function zoomed() {
      if (t.length < 2) {
        return false;
      }
      var x = chart.scales.x;
      return x.min > t[0] || x.max < t[t.length - 1];
    }

    window.addEventListener("resize", function () {
      chart.setSize({ width: Math.max(el.clientWidth, 280), height: height });
    });

    var url = el.getAttribute("data-stream-url");
    if (!url || !window.EventSource) {
      return;
    }
    var es = new EventSource(url);
    es.addEventListener("sample", function (e) {
      var s;
      try {
        s = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      if (s.id <= lastID) {
        return;
      }
      var keep = zoomed();
      push(Math.floor(Date.parse(s.recorded_at) / 1000), s.size_bytes, s.retained_bytes, s.id);
      chart.setData(data(), !keep);
      el.setAttribute("data-points", String(t.length));
      el.setAttribute("data-last-id", String(lastID));
      if (live) {
        live.textContent = " · live: last sample " + new Date(s.recorded_at).toLocaleTimeString();
      }
    });
    es.addEventListener("open", function () {
      el.setAttribute("data-live", "open");
    });
    es.addEventListener("error", function () {
      el.setAttribute("data-live", "reconnecting");
    });
  }

  var full = document.getElementById("wal-chart");
  if (full) {
    draw(full, false, document.getElementById("wal-live"));
  }
  var mini = document.getElementById("wal-mini-chart");
  if (mini) {
    draw(mini, true, null);
  }
})();
