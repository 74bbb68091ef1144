// The dashboard's progressive enhancement, plain browser JavaScript served at /ui/assets/app.js.
// Every page works without it; with it: the schedule preview as you type, the live log tail (SSE,
// resumed after a reconnect by Last-Event-ID), bulk selection, and the executions-per-hour chart
// drawn by uPlot over the server's SVG (same box, so nothing moves).

/** The script served at /ui/assets/app.js. */
export const APP_JS = `
(function () {
  "use strict";
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // Schedule preview: next fire times as you type, and the schedule's error inline before saving.
  var preview = $("[data-preview-url]");
  if (preview) {
    var form = preview.closest("form");
    var timer = 0, seq = 0;
    var fields = ["schedule", "timezone", "dst", "name"];
    var run = function () {
      var q = new URLSearchParams();
      fields.forEach(function (f) { var el = form.elements.namedItem(f); if (el) q.set(f, el.value); });
      var mine = ++seq;
      fetch(preview.getAttribute("data-preview-url") + "?" + q.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.text().then(function (t) { return { ok: r.ok && !r.redirected, status: r.status, text: t }; }); })
        .then(function (res) {
          if (mine !== seq) return;
          // A signed-out session answers with a redirect to sign-in: never paste that page in here.
          if (!res.ok) { preview.textContent = "Preview unavailable (" + (res.status === 200 ? "signed out" : "HTTP " + res.status) + "): reload the page."; return; }
          preview.innerHTML = res.text;
          var err = $("[data-preview-error]", preview);
          var box = $("[data-field='schedule']", form);
          var slot = box && $(".error", box);
          if (box && slot) {
            var input = form.elements.namedItem("schedule");
            if (err) { box.setAttribute("data-invalid", ""); slot.textContent = err.getAttribute("data-preview-error"); if (input) input.setAttribute("aria-invalid", "true"); }
            else { box.removeAttribute("data-invalid"); slot.removeAttribute("data-from"); slot.textContent = ""; if (input) input.removeAttribute("aria-invalid"); }
          }
        })
        .catch(function () {});
    };
    fields.forEach(function (f) {
      var el = form.elements.namedItem(f);
      if (el) el.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 200); });
    });
  }

  // Live log tail of a running execution.
  var tail = $("[data-tail-url]");
  if (tail && window.EventSource) {
    var log = $("#log"), status = $("#live-status");
    var es = new EventSource(tail.getAttribute("data-tail-url"));
    var atBottom = function () { return log.scrollHeight - log.scrollTop - log.clientHeight < 24; };
    es.addEventListener("output", function (ev) {
      var d = JSON.parse(ev.data), stick = atBottom();
      if (d.skipped) log.appendChild(document.createTextNode("[" + d.skipped + " characters of output were cut while you were away]\\n"));
      log.appendChild(document.createTextNode(d.text));
      if (stick) log.scrollTop = log.scrollHeight;
      live();
    });
    es.addEventListener("done", function (ev) {
      var d = JSON.parse(ev.data);
      clearTimeout(slow);
      log.textContent = d.output;
      status.textContent = "finished: " + d.state;
      var badge = $("[data-exec-state]");
      if (badge) { badge.className = "badge " + d.state; badge.textContent = d.state; }
      es.close();
    });
    // A stream ends every few seconds by design and the browser resumes it at once: say
    // "reconnecting" only when that takes long, and say so plainly when the browser gave up.
    var slow;
    var live = function () { clearTimeout(slow); status.textContent = "live: streaming output"; };
    es.addEventListener("hello", live);
    es.onerror = function () {
      clearTimeout(slow);
      if (es.readyState === 2) { status.textContent = "live tail stopped (signed out, or the node is unreachable): reload the page"; return; }
      slow = setTimeout(function () { status.textContent = "reconnecting..."; }, 1500);
    };
  }

  // Bulk selection on the jobs list.
  var all = $("#select-all");
  var bulkButtons = $all("[data-bulk]");
  var boxes = $all("input[name=names]");
  var sync = function () {
    var n = boxes.filter(function (b) { return b.checked; }).length;
    bulkButtons.forEach(function (b) { b.disabled = n === 0; });
    var c = $("#selected-count"); if (c) c.textContent = n ? n + " selected" : "";
  };
  if (all) all.addEventListener("change", function () { boxes.forEach(function (b) { b.checked = all.checked; }); sync(); });
  boxes.forEach(function (b) { b.addEventListener("change", sync); });
  if (boxes.length) sync();

  // Executions per hour, drawn by uPlot inside the server-rendered chart's box.
  var chart = $("[data-per-hour]");
  if (chart && window.uPlot) {
    var rows = JSON.parse(chart.getAttribute("data-per-hour"));
    var css = getComputedStyle(document.documentElement);
    var color = function (v) { return css.getPropertyValue(v).trim(); };
    var xs = rows.map(function (r) { return Date.parse(r.at) / 1000; });
    var bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.7, 40] }) : undefined;
    var series = function (label, key, v) {
      return { label: label, stroke: color(v), fill: color(v), paths: bars, points: { show: false } };
    };
    var ok = rows.map(function (r) { return r.success; });
    var bad = rows.map(function (r) { return r.failed; });
    var other = rows.map(function (r) { return r.other; });
    chart.innerHTML = "";
    var plot = new uPlot({
      width: chart.clientWidth, height: chart.clientHeight - 34,
      axes: [{ stroke: color("--muted"), grid: { stroke: color("--border") } }, { stroke: color("--muted"), grid: { stroke: color("--border") } }],
      series: [{}, series("success", "success", "--ok"), series("failed", "failed", "--bad"), series("other", "other", "--idle")],
      legend: { live: true },
    }, [xs, ok, bad, other], chart);
    window.addEventListener("resize", function () { plot.setSize({ width: chart.clientWidth, height: chart.clientHeight - 34 }); });
  }
})();
`;
