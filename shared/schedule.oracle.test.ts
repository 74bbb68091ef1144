import { CronExpressionParser } from "cron-parser";
import { describe, expect, it } from "vitest";
import { nextFireTimes } from "./schedule";
import { rng } from "./schedule.test-reference";

// A differential test against an independent cron implementation (cron-parser) on days without DST
// transitions, where the two must agree exactly. Across transitions the engine follows its own
// rule (checked against the brute-force reference in schedule.dst*.test.ts), which cron-parser
// does not share.

/** Months with no transition in each zone (in 2026), as [start, end) instants. */
const WINDOWS: [zone: string, from: string, to: string][] = [
  ["UTC", "2026-01-01T00:00:00Z", "2026-12-31T00:00:00Z"],
  ["Europe/Berlin", "2026-04-01T00:00:00Z", "2026-10-20T00:00:00Z"],
  ["America/New_York", "2026-03-15T00:00:00Z", "2026-10-31T00:00:00Z"],
  ["Asia/Kolkata", "2026-01-01T00:00:00Z", "2026-12-31T00:00:00Z"],
  ["Australia/Lord_Howe", "2026-04-10T00:00:00Z", "2026-09-30T00:00:00Z"],
];

/** One random cron field over [lo, hi]: `*`, a value, a range, a step, or a list. */
function field(r: () => number, lo: number, hi: number, wildcardBias: number): string {
  const int = (a: number, b: number) => a + Math.floor(r() * (b - a + 1));
  const x = r();
  if (x < wildcardBias) return "*";
  if (x < wildcardBias + 0.2) return String(int(lo, hi));
  if (x < wildcardBias + 0.35) {
    const a = int(lo, hi);
    return `${a}-${int(a, hi)}`;
  }
  if (x < wildcardBias + 0.5) return `*/${int(2, Math.max(2, Math.floor((hi - lo) / 2)))}`;
  if (x < wildcardBias + 0.6) {
    const a = int(lo, hi);
    return `${a}-${int(a, hi)}/${int(2, 5)}`;
  }
  const n = int(2, 4);
  return [...new Set(Array.from({ length: n }, () => int(lo, hi)))].sort((p, q) => p - q).join(",");
}

/** A six-field (seconds first) expression; day-of-month and day-of-week are not both restricted. */
function expression(r: () => number): string {
  const dom = field(r, 1, 28, 0.6);
  const dow = dom === "*" ? field(r, 0, 6, 0.6) : "*";
  return [
    field(r, 0, 59, 0.2),
    field(r, 0, 59, 0.3),
    field(r, 0, 23, 0.4),
    dom,
    field(r, 1, 12, 0.7),
    dow,
  ].join(" ");
}

/** cron-parser's fire times strictly after `after`, before `until`, at most n. */
function oracle(expr: string, zone: string, after: number, until: number, n: number): number[] {
  const it = CronExpressionParser.parse(expr, { currentDate: new Date(after), tz: zone });
  const out: number[] = [];
  while (out.length < n && it.hasNext()) {
    const t = it.next().getTime();
    if (t >= until) break;
    out.push(t);
  }
  return out;
}

describe("the cron engine agrees with cron-parser away from DST transitions", () => {
  for (const [zone, from, to] of WINDOWS) {
    it(`in ${zone}, 300 random expressions`, () => {
      const r = rng(zone.length * 7919);
      const start = Date.parse(from);
      const end = Date.parse(to);
      for (let i = 0; i < 300; i++) {
        const expr = expression(r);
        // Start at a random second of the window, leaving room for the fire times compared.
        const after = start + Math.floor((r() * (end - start) * 0.5) / 1000) * 1000;
        const ours = nextFireTimes(expr, { jobName: "j", timezone: zone }, after, 20).filter((t) => t < end);
        const theirs = oracle(expr, zone, after, end, 20);
        const n = Math.min(ours.length, theirs.length, 20);
        expect({
          expr,
          zone,
          after: new Date(after).toISOString(),
          fires: ours.slice(0, n).map((t) => new Date(t).toISOString()),
        }).toEqual({
          expr,
          zone,
          after: new Date(after).toISOString(),
          fires: theirs.slice(0, n).map((t) => new Date(t).toISOString()),
        });
        // Both find the same number of fire times in the window (up to 20).
        expect(ours.length, `${expr} in ${zone} after ${new Date(after).toISOString()}`).toBe(theirs.length);
      }
    });
  }
});
