// The dashboard's one stylesheet: system fonts (nothing from the network), light and dark palettes
// that follow the system, fixed-size slots for live data so nothing shifts when it arrives.

/** The stylesheet served at /ui/assets/app.css. */
export const APP_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --panel: #ffffff; --text: #1b1f24; --muted: #57606a; --border: #d8dee4;
  --accent: #0a58ca; --accent-text: #ffffff; --ok: #1a7f37; --bad: #c62828; --warn: #9a6700;
  --idle: #6e7781; --run: #0969da; --code-bg: #f0f2f5; --focus: #0a58ca; --row-hover: #f3f6fa;
  --heat0: #eef1f4; --heat1: #c6e0f5; --heat2: #7fb5e6; --heat3: #2f7fd1; --heat4: #0b4a94;
  --radius: 8px; --shadow: 0 1px 2px rgba(0,0,0,.06);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 15px; line-height: 1.45;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --panel: #161b22; --text: #e6edf3; --muted: #9ea7b3; --border: #30363d;
    --accent: #4493f8; --accent-text: #0d1117; --ok: #3fb950; --bad: #f85149; --warn: #d29922;
    --idle: #8b949e; --run: #58a6ff; --code-bg: #0b0f14; --focus: #79c0ff; --row-hover: #1c2330;
    --heat0: #1c2128; --heat1: #163356; --heat2: #1f5fa6; --heat3: #3b8eea; --heat4: #9ecbff;
    --shadow: none;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 3px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--panel); padding: 8px 12px; z-index: 10; }
.skip:focus { left: 8px; }
header.top { background: var(--panel); border-bottom: 1px solid var(--border); }
.top-inner { max-width: 1280px; margin: 0 auto; padding: 0 16px; display: flex; align-items: center; gap: 20px; min-height: 56px; }
.brand { font-weight: 700; font-size: 17px; color: var(--text); display: flex; align-items: center; gap: 8px; white-space: nowrap; }
.brand .mark { width: 22px; height: 22px; border-radius: 6px; background: var(--accent); display: inline-block; position: relative; }
.brand .mark::after { content: ""; position: absolute; left: 10px; top: 4px; width: 2px; height: 8px; background: var(--panel); box-shadow: 3px 6px 0 -0px var(--panel); transform-origin: bottom; }
nav.main { display: flex; gap: 4px; overflow-x: auto; flex: 1; }
nav.main a { color: var(--muted); padding: 8px 10px; border-radius: 6px; white-space: nowrap; }
nav.main a:hover { background: var(--row-hover); text-decoration: none; color: var(--text); }
nav.main a[aria-current="page"] { color: var(--text); font-weight: 600; background: var(--row-hover); }
.who { display: flex; align-items: center; gap: 10px; color: var(--muted); font-size: 13px; white-space: nowrap; }
.who form { margin: 0; }
main { max-width: 1280px; margin: 0 auto; padding: 20px 16px 48px; }
h1 { font-size: 22px; margin: 4px 0 16px; display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
h2 { font-size: 16px; margin: 0 0 12px; }
.sub { color: var(--muted); font-size: 13px; font-weight: 400; }
.panel { background: var(--panel); border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow); padding: 16px; margin-bottom: 16px; }
.panel.flush { padding: 0; overflow: hidden; }
.panel.flush > h2 { padding: 14px 16px 0; }
.grid { display: grid; gap: 16px; }
.grid.cards { grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); margin-bottom: 16px; }
.grid.two { grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); }
.card { background: var(--panel); border: 1px solid var(--border); border-radius: var(--radius); padding: 12px 14px; min-height: 78px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .value a { color: inherit; }
.card.bad .value { color: var(--bad); } .card.ok .value { color: var(--ok); } .card.warn .value { color: var(--warn); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--border); vertical-align: middle; }
th { font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .03em; white-space: nowrap; background: var(--panel); }
th a { color: inherit; }
tbody tr:hover { background: var(--row-hover); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.nowrap { white-space: nowrap; }
caption { text-align: left; padding: 0 0 8px; color: var(--muted); font-size: 13px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
code { background: var(--code-bg); padding: 1px 5px; border-radius: 4px; }
pre.log { background: var(--code-bg); border: 1px solid var(--border); border-radius: 6px; padding: 12px; margin: 0; white-space: pre-wrap; word-break: break-word; height: 420px; overflow: auto; }
.badge { display: inline-flex; align-items: center; gap: 6px; font-size: 12px; font-weight: 600; padding: 2px 8px; border-radius: 999px; border: 1px solid var(--border); white-space: nowrap; }
.badge::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--idle); }
.badge.success::before, .badge.alive::before, .badge.leader::before, .badge.connected::before { background: var(--ok); }
.badge.failed::before, .badge.lost::before, .badge.dead::before, .badge.down::before, .badge.partially_failed::before { background: var(--bad); }
.badge.running::before { background: var(--run); animation: pulse 1.2s infinite; }
.badge.missed::before, .badge.suspect::before, .badge.skipped-dst::before, .badge.disabled::before { background: var(--warn); }
@keyframes pulse { 50% { opacity: .35; } }
@media (prefers-reduced-motion: reduce) { .badge.running::before { animation: none; } }
.btn, button { font: inherit; font-size: 14px; border: 1px solid var(--border); background: var(--panel); color: var(--text); padding: 6px 12px; border-radius: 6px; cursor: pointer; display: inline-flex; align-items: center; gap: 6px; min-height: 34px; }
.btn:hover, button:hover { border-color: var(--muted); text-decoration: none; }
.btn.primary, button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); font-weight: 600; }
.btn.danger, button.danger { color: var(--bad); border-color: var(--bad); }
button:disabled { opacity: .5; cursor: not-allowed; }
.actions { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
.actions form { margin: 0; }
form.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 10px; align-items: end; }
label { display: block; font-size: 13px; font-weight: 600; margin-bottom: 4px; }
.field { margin-bottom: 14px; }
.field .hint { color: var(--muted); font-size: 12px; margin-top: 3px; }
.field .error, .form-error { color: var(--bad); font-size: 13px; margin-top: 4px; }
/* One line kept for a field's error, so the inline schedule error never pushes the form down. */
.field .error { min-height: 1.4em; }
.form-error { background: color-mix(in srgb, var(--bad) 10%, transparent); border: 1px solid var(--bad); border-radius: 6px; padding: 8px 12px; margin-bottom: 14px; }
.field[data-invalid] input, .field[data-invalid] textarea, .field[data-invalid] select { border-color: var(--bad); }
input[type=text], input[type=password], input[type=number], input[type=search], select, textarea { font: inherit; font-size: 14px; width: 100%; padding: 7px 9px; border: 1px solid var(--border); border-radius: 6px; background: var(--bg); color: var(--text); min-height: 34px; }
textarea { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; min-height: 72px; }
.check { display: flex; align-items: center; gap: 8px; font-weight: 500; }
.check input { width: 16px; height: 16px; }
.form-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 0 20px; }
dl.def { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0; font-size: 14px; }
dl.def dt { color: var(--muted); }
dl.def dd { margin: 0; word-break: break-word; }
.pager { display: flex; gap: 8px; align-items: center; justify-content: space-between; padding: 10px 16px; color: var(--muted); font-size: 13px; flex-wrap: wrap; }
.bulk { display: flex; gap: 8px; align-items: center; padding: 10px 16px; border-bottom: 1px solid var(--border); flex-wrap: wrap; min-height: 54px; }
.spark { display: block; }
.spark .ok { fill: var(--ok); } .spark .bad { fill: var(--bad); } .spark .other { fill: var(--idle); }
.muted { color: var(--muted); }
.note { color: var(--muted); font-size: 12px; }
.mark { font-size: 12px; color: var(--warn); font-weight: 600; }
.heatmap { display: grid; grid-template-columns: 44px repeat(60, minmax(6px, 1fr)); gap: 2px; font-size: 11px; color: var(--muted); }
.heatmap .h { grid-column: 1; line-height: 12px; }
.heatmap .c { height: 12px; border-radius: 2px; background: var(--heat0); }
.heatmap .out { background: transparent; }
.heatmap .l1 { background: var(--heat1); } .heatmap .l2 { background: var(--heat2); } .heatmap .l3 { background: var(--heat3); } .heatmap .l4 { background: var(--heat4); }
.legend { display: flex; gap: 6px; align-items: center; font-size: 12px; color: var(--muted); margin-top: 8px; flex-wrap: wrap; }
.legend .c { width: 14px; height: 12px; border-radius: 2px; display: inline-block; }
.chart { height: 240px; position: relative; }
.chart svg { width: 100%; height: 100%; }
.chart .bar-ok { fill: var(--ok); } .chart .bar-bad { fill: var(--bad); } .chart .bar-other { fill: var(--idle); }
.secret { font-family: ui-monospace, monospace; font-size: 14px; background: var(--code-bg); border: 1px dashed var(--warn); padding: 10px 12px; border-radius: 6px; word-break: break-all; user-select: all; }
.center-box { max-width: 440px; margin: 8vh auto; }
.tag { display: inline-block; font-size: 12px; padding: 1px 7px; border-radius: 4px; background: var(--code-bg); border: 1px solid var(--border); margin: 1px 2px 1px 0; white-space: nowrap; }
.live-status { min-height: 22px; font-size: 13px; color: var(--muted); margin-bottom: 8px; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 720px) {
  .top-inner { flex-wrap: wrap; gap: 8px; padding: 8px 12px; }
  nav.main { order: 3; flex-basis: 100%; }
  main { padding: 14px 10px 40px; }
  .hide-sm { display: none; }
  dl.def { grid-template-columns: 1fr; gap: 2px; }
  dl.def dd { margin-bottom: 8px; }
  .card .value { font-size: 22px; }
  .heatmap { grid-template-columns: 34px repeat(60, minmax(3px, 1fr)); gap: 1px; }
}
`;
