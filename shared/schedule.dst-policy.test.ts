import { describe, expect, it } from "vitest";
import { isAppError } from "./errors";
import { nextFireTimes, parseDstPolicy, parseSchedule } from "./schedule";

/** Fire times in [from, to) as UTC "HH:MM". */
function fires(spec: string, timezone: string, dst: string, from: string, to: string): string[] {
  const a = Date.parse(from);
  const b = Date.parse(to);
  return nextFireTimes(spec, { jobName: "j", timezone, dst }, a - 1, 500)
    .filter((t) => t < b)
    .map((t) => new Date(t).toISOString().slice(11, 16));
}

describe("dst policy values", () => {
  it.each([
    ["", "auto"],
    ["auto", "auto"],
    ["AUTO", "auto"],
    ["once", "once"],
    ["skip", "skip"],
    ["skip,twice", "twice,skip"],
    ["twice skip", "twice,skip"],
    [" transition , once ", "once,transition"],
  ])("%j reads as %j", (text, canonical) => {
    expect(parseDstPolicy(text)).toBe(canonical);
  });

  it.each([
    ["never", 'unknown value "never"'],
    ["once,twice", '"once" and "twice" both set the repeated hour'],
    ["skip,transition", '"skip" and "transition" both set the missing hour'],
    ["auto,once", 'unknown value "auto"'],
  ])("%j is refused, naming the field and the reason", (text, reason) => {
    try {
      parseDstPolicy(text);
      expect.unreachable();
    } catch (e) {
      expect(isAppError(e) && e.code).toBe("VALIDATION");
      expect(isAppError(e) && e.details?.field).toBe("dst");
      expect(String((e as Error).message)).toContain(reason);
    }
  });
});

describe("auto: real time when the second, minute or hour field starts with * (Vixie cron)", () => {
  it.each([
    ["0 0 * * * *", { repeated: "twice", missing: "skip" }],
    ["0 */15 1-3 * * *", { repeated: "twice", missing: "skip" }],
    ["*/10 * * * *", { repeated: "twice", missing: "skip" }],
    ["0 ? 3 * * *", { repeated: "twice", missing: "skip" }],
    ["@hourly", { repeated: "twice", missing: "skip" }],
    ["0 30 2 * * *", { repeated: "once", missing: "transition" }],
    ["30 2 * * *", { repeated: "once", missing: "transition" }],
    // A range with a step is written out, not a wildcard: a fixed set of wall times.
    ["0 0-59/15 2 * * *", { repeated: "once", missing: "transition" }],
    ["@daily", { repeated: "once", missing: "transition" }],
  ])("%s runs by %j", (spec, rule) => {
    expect(parseSchedule(spec, { jobName: "j", timezone: "Europe/Berlin" }).dst).toEqual(rule);
  });

  it("a named half overrides only that half", () => {
    const rule = (spec: string, dst: string) => parseSchedule(spec, { jobName: "j", dst }).dst;
    expect(rule("0 0 * * * *", "once")).toEqual({ repeated: "once", missing: "skip" });
    expect(rule("0 30 2 * * *", "skip")).toEqual({ repeated: "once", missing: "skip" });
    expect(rule("0 30 2 * * *", "twice,skip")).toEqual({ repeated: "twice", missing: "skip" });
  });

  it("@every, @at and @manually are real instants: no DST rule applies", () => {
    for (const spec of ["@every 1h", "@at 2026-10-25T01:30:00Z", "@manually"]) {
      expect(parseSchedule(spec, { jobName: "j", timezone: "Europe/Berlin", dst: "once" }).dst).toBeNull();
    }
  });
});

describe("the documented counts", () => {
  // Berlin, Sunday 2026-10-25: 25 hours from midnight to midnight; 02:00-03:00 happens twice.
  const berlinFall = ["2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"] as const;
  // New York, Sunday 2026-11-01: 01:00-02:00 happens twice (EDT, then EST).
  const newYorkFall = ["2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"] as const;
  // Berlin, Sunday 2026-03-29: 23 hours; 02:00-03:00 never happens.
  const berlinSpring = ["2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"] as const;

  it.each([
    ["auto", 25],
    ["twice", 25],
    ["once", 24],
  ])("hourly in Berlin on the 25-hour day, dst=%s: %i runs", (dst, n) => {
    expect(fires("0 0 * * * *", "Europe/Berlin", dst, ...berlinFall)).toHaveLength(n);
  });

  it.each([
    ["auto", 16],
    ["twice", 16],
    ["once", 12],
  ])("0 */15 1-3 * * * in New York on 2026-11-01, dst=%s: %i runs", (dst, n) => {
    const got = fires("0 */15 1-3 * * *", "America/New_York", dst, ...newYorkFall);
    expect(got).toHaveLength(n);
    if (n === 16) expect(got.slice(4, 8)).toEqual(["06:00", "06:15", "06:30", "06:45"]); // 01:xx EST
  });

  it.each([
    ["auto", 23],
    ["skip", 23],
    ["transition", 24],
  ])("0 30 * * * * in Berlin on the 23-hour day, dst=%s: %i runs", (dst, n) => {
    expect(fires("0 30 * * * *", "Europe/Berlin", dst, ...berlinSpring)).toHaveLength(n);
  });

  it("a fixed 02:30 job runs once on both odd days by default, at 03:00 when 02:30 does not exist", () => {
    expect(fires("30 2 * * *", "Europe/Berlin", "auto", ...berlinSpring)).toEqual(["01:00"]);
    expect(fires("30 2 * * *", "Europe/Berlin", "auto", ...berlinFall)).toEqual(["00:30"]);
    expect(fires("30 2 * * *", "Europe/Berlin", "skip", ...berlinSpring)).toEqual([]);
    expect(fires("30 2 * * *", "Europe/Berlin", "twice", ...berlinFall)).toEqual(["00:30", "01:30"]);
  });

  it("records the wall times skip does not run; once still ran each wall time, so it records none", () => {
    const s = parseSchedule("0 */15 1-3 * * *", { jobName: "j", timezone: "America/New_York", dst: "once" });
    expect(s.dstSkips(Date.parse(newYorkFall[0]), Date.parse(newYorkFall[1]))).toEqual([]);
    const quarter = parseSchedule("0 */15 * * * *", { jobName: "j", timezone: "Europe/Berlin" });
    expect(quarter.dstSkips(Date.parse(berlinSpring[0]), Date.parse(berlinSpring[1]))).toMatchObject([
      { at: Date.parse("2026-03-29T01:00:00Z"), count: 4 },
    ]);
    const daily = parseSchedule("30 2 * * *", { jobName: "j", timezone: "Europe/Berlin", dst: "skip" });
    expect(daily.dstSkips(Date.parse(berlinSpring[0]), Date.parse(berlinSpring[1]))).toMatchObject([
      { at: Date.parse("2026-03-29T01:00:00Z"), count: 1 },
    ]);
    expect(
      parseSchedule("30 2 * * *", { jobName: "j", timezone: "Europe/Berlin" }).dstSkips(0, 2e12),
    ).toEqual([]);
  });

  it("records the wall times a transition run stands for beyond the first, as merged", () => {
    // 02:00 does not exist; its run at the transition is also 03:00's: one run, one record.
    const s = parseSchedule("0 0 2,3 * * *", { jobName: "j", timezone: "Europe/Berlin" });
    expect(fires("0 0 2,3 * * *", "Europe/Berlin", "auto", ...berlinSpring)).toEqual(["01:00"]);
    expect(s.dstSkips(Date.parse(berlinSpring[0]), Date.parse(berlinSpring[1]))).toMatchObject([
      { at: Date.parse("2026-03-29T01:00:00Z"), kind: "merged", count: 1 },
    ]);
    // A lone 02:30 runs at 03:00 with nothing else there: nothing to record.
    const lone = parseSchedule("30 2 * * *", { jobName: "j", timezone: "Europe/Berlin" });
    expect(lone.dstSkips(Date.parse(berlinSpring[0]), Date.parse(berlinSpring[1]))).toEqual([]);
  });
});
