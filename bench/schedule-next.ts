/**
 * Cost of finding a schedule's next fire time (what the scheduler and every `next` in the API pay),
 * per expression and zone, under the default `dst: auto` and under `dst: once` (the single
 * wall-clock rule this engine had before per-job policies), beside cron-parser in the same run as the
 * baseline. Each row chains N next() calls from 2026-01-01, so DST transitions are crossed as they
 * come. cron-parser follows its own DST rule, so only the cost is compared, not the instants.
 * Run: node --import tsx bench/schedule-next.ts [N]
 */

import { tmpdir } from "node:os";
import { CronExpressionParser } from "cron-parser";
import { parseSchedule } from "../shared/schedule";
import { benchArgs } from "./args";
import { hostLine } from "./host";
import { type Figure, reportFigures } from "./report";

const N = benchArgs("Usage: node --import tsx bench/schedule-next.ts [N = 20000]").int(0, "N", 20_000);
const FROM = Date.parse("2026-01-01T00:00:00Z");

const CASES: [expr: string, zone: string][] = [
  ["0 */15 * * * *", "UTC"],
  ["0 */15 * * * *", "Europe/Berlin"],
  ["0 0 * * * *", "America/New_York"],
  ["0 30 2 * * *", "Europe/Berlin"],
  ["*/10 * * * * *", "Australia/Lord_Howe"],
  ["0 0 9 * * MON-FRI", "Asia/Kolkata"],
];

/** ns per call of the stepper `make` returns, chained N times from FROM; best of three passes (noise only adds). */
function time(make: () => (after: number) => number | null): number {
  let best = Number.POSITIVE_INFINITY;
  for (let pass = 0; pass < 3; pass++) {
    const step = make();
    let t: number | null = FROM;
    const start = performance.now();
    for (let i = 0; i < N && t !== null; i++) t = step(t);
    best = Math.min(best, ((performance.now() - start) * 1e6) / N);
  }
  return best;
}

console.log(await hostLine(tmpdir()));
console.log(`N=${N} chained next() calls per row, best of 3; ns per call`);
console.log(
  `${"expression".padEnd(20)} ${"zone".padEnd(20)} ${"auto".padStart(8)} ${"once".padStart(8)} ${"cron-parser".padStart(12)} ${"auto/cp".padStart(8)}`,
);
const figures: Figure[] = [];
for (const [expr, zone] of CASES) {
  const ours = (dst: string) => {
    const s = parseSchedule(expr, { jobName: "bench", timezone: zone, dst });
    return time(() => (after) => s.next(after));
  };
  const auto = ours("auto");
  const once = ours("once");
  // One iterator, advanced N times: cron-parser's own fastest way to walk a schedule.
  const cp = time(() => {
    const it = CronExpressionParser.parse(expr, { currentDate: new Date(FROM), tz: zone });
    return () => it.next().getTime();
  });
  const f = (n: number) => n.toFixed(0).padStart(8);
  console.log(
    `${expr.padEnd(20)} ${zone.padEnd(20)} ${f(auto)} ${f(once)} ${cp.toFixed(0).padStart(12)} ${(auto / cp).toFixed(2).padStart(8)}`,
  );
  figures.push({
    figure: `next fire of "${expr}" in ${zone}`,
    ours: auto,
    unit: "ns",
    baseline: cp,
    baselineWhat: "cron-parser",
    reproduce: `node --import tsx bench/schedule-next.ts ${N}`,
  });
}
reportFigures("schedule-next", figures);
