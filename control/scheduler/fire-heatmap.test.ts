import { describe, expect, it } from "vitest";
import { parseSchedule } from "../../shared";
import { type FireSource, fireGroupKey, fireHeatmap, MAX_WALK } from "./fire-heatmap";

const FROM = Date.UTC(2026, 9, 24, 12, 0, 0); // a minute boundary, the day before Berlin's fall-back
const MIN = 60_000;

/** The brute-force count: every fire of every job, one by one. */
function bruteForce(jobs: { spec: string; tz?: string; anchor?: number }[], from: number, count: number) {
  const out = new Array<number>(count).fill(0);
  for (const j of jobs) {
    const s = parseSchedule(j.spec, { jobName: "j", timezone: j.tz ?? "" });
    let at = s.next(from - 1, j.anchor ?? 0);
    while (at !== null && at < from + count * MIN) {
      out[Math.floor((at - from) / MIN)]! += 1;
      at = s.next(at, j.anchor ?? 0);
    }
  }
  return out;
}

/** The dashboard's way: group jobs by fireGroupKey, one walk per group. */
function grouped(jobs: { spec: string; tz?: string; anchor?: number }[], from: number, count: number) {
  const groups = new Map<string, FireSource>();
  const alone: FireSource[] = [];
  for (const j of jobs) {
    const schedule = parseSchedule(j.spec, { jobName: "j", timezone: j.tz ?? "" });
    const first = schedule.next(from - 1, j.anchor ?? 0);
    if (first === null) continue;
    const key = fireGroupKey(schedule, first, from);
    const src = { schedule, anchor: j.anchor ?? 0, first, weight: 1 };
    if (key === null) alone.push(src);
    else {
      const g = groups.get(key);
      if (g) g.weight++;
      else groups.set(key, src);
    }
  }
  return fireHeatmap([...groups.values(), ...alone], from, count);
}

describe("fireHeatmap: scheduled fires per minute over the next day", () => {
  it("counts cron and @every jobs exactly as walking every fire of every job does", () => {
    const jobs = [
      { spec: "0 */15 * * * *" },
      { spec: "0 */15 * * * *" },
      { spec: "30 0 3 * * *", tz: "Europe/Berlin" },
      { spec: "@hourly", tz: "America/New_York" },
      { spec: "@every 1h", anchor: FROM - 7 * MIN },
      { spec: "@every 1h", anchor: FROM - 67 * MIN },
      { spec: "@every 1h", anchor: FROM - 20 * MIN },
      { spec: "@every 90s", anchor: FROM + 1234 },
      { spec: "@every 5m", anchor: FROM - 3 * MIN - 500 },
      { spec: "0 0 0 * * *" },
    ];
    const h = grouped(jobs, FROM, 1440);
    expect(h.approximate).toBe(false);
    expect(h.minutes).toEqual(bruteForce(jobs, FROM, 1440));
  });

  it("walks a group once for all its jobs (100 jobs of one schedule weigh 100)", () => {
    const jobs = Array.from({ length: 100 }, () => ({ spec: "0 0 * * * *" }));
    const h = grouped(jobs, FROM, 180);
    expect(h.minutes.filter((n) => n > 0)).toEqual([100, 100, 100]);
  });

  it("extrapolates a source that fires more than it may walk, and says so", () => {
    const h = grouped([{ spec: "* * * * * *" }], FROM, 1440);
    expect(MAX_WALK).toBeLessThan(86_400);
    expect(h.approximate).toBe(true);
    // Every minute of an every-second cron has 60 fires, walked or extrapolated.
    expect(h.minutes.every((n) => Math.abs(n - 60) < 1e-9)).toBe(true);
  });
});
