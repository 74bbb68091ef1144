import { describe, expect, it } from "vitest";
import { isAppError } from "./errors";
import {
  DESCRIPTORS,
  isEmptySchedule,
  nameHash,
  nextFireTimes,
  parseSchedule,
  type ScheduleOptions,
  validateTimezone,
} from "./schedule";

const ms = (iso: string) => Date.parse(iso);
const iso = (xs: number[]) => xs.map((x) => new Date(x).toISOString().replace(".000Z", "Z"));
const job: ScheduleOptions = { jobName: "job" };
const fires = (spec: string, after: string, n: number, opts: ScheduleOptions = job) =>
  iso(nextFireTimes(spec, opts, ms(after), n));

/** Runs fn and returns the AppError it throws (failing the test if it does not throw one). */
function thrown(fn: () => unknown): { code: string; message: string; field: unknown } {
  try {
    fn();
  } catch (e) {
    if (!isAppError(e)) throw e;
    return { code: e.code, message: e.message, field: e.details?.field };
  }
  throw new Error("expected an AppError");
}

describe("cron grammar (UTC)", () => {
  const after = "2026-01-01T00:00:00Z"; // a Thursday
  it.each([
    ["0 30 * * * *", ["2026-01-01T00:30:00Z", "2026-01-01T01:30:00Z", "2026-01-01T02:30:00Z"]],
    ["*/20 * * * * *", ["2026-01-01T00:00:20Z", "2026-01-01T00:00:40Z", "2026-01-01T00:01:00Z"]],
    ["5/20 * * * * *", ["2026-01-01T00:00:05Z", "2026-01-01T00:00:25Z", "2026-01-01T00:00:45Z"]],
    ["0 0 */6 * * *", ["2026-01-01T06:00:00Z", "2026-01-01T12:00:00Z", "2026-01-01T18:00:00Z"]],
    ["0 0 9-17/4 * * *", ["2026-01-01T09:00:00Z", "2026-01-01T13:00:00Z", "2026-01-01T17:00:00Z"]],
    ["0 15,45 3 * * *", ["2026-01-01T03:15:00Z", "2026-01-01T03:45:00Z", "2026-01-02T03:15:00Z"]],
    ["0 0 12 * * MON-FRI", ["2026-01-01T12:00:00Z", "2026-01-02T12:00:00Z", "2026-01-05T12:00:00Z"]],
    ["0 0 12 * * mon,Wed", ["2026-01-05T12:00:00Z", "2026-01-07T12:00:00Z", "2026-01-12T12:00:00Z"]],
    ["0 0 0 * * 7", ["2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z", "2026-01-18T00:00:00Z"]],
    ["0 0 0 * * 5-7", ["2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"]],
    ["0 0 0 1 jan,JUL ?", ["2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z"]],
    ["? ? ? ? ? ?", ["2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z", "2026-01-01T00:00:03Z"]],
    // Both day fields restricted: either matches (the 13th, or any Friday).
    ["0 0 0 13 * 5", ["2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z"]],
    // One day field is `*`: only the other applies.
    ["0 0 0 * * 5", ["2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z", "2026-01-16T00:00:00Z"]],
    ["0 0 0 13 * ?", ["2026-01-13T00:00:00Z", "2026-02-13T00:00:00Z", "2026-03-13T00:00:00Z"]],
    // robfig: `*/1` keeps the star bit, so dom/dow combine with AND.
    ["0 0 0 */1 * 5", ["2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z", "2026-01-16T00:00:00Z"]],
    ["0 0 0 31 * *", ["2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z"]],
    ["0 0 0 29 2 *", ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z"]],
    ["  0   0  12  *  *  *  ", ["2026-01-01T12:00:00Z", "2026-01-02T12:00:00Z", "2026-01-03T12:00:00Z"]],
    // Five fields: minute resolution, second 0.
    ["30 2 * * *", ["2026-01-01T02:30:00Z", "2026-01-02T02:30:00Z", "2026-01-03T02:30:00Z"]],
    ["*/15 * * * *", ["2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z", "2026-01-01T00:45:00Z"]],
    ["0 0 * * SUN", ["2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z", "2026-01-18T00:00:00Z"]],
  ])("%s", (spec, expected) => {
    expect(fires(spec, after, 3)).toEqual(expected);
  });

  it("finds Feb 29 across 2100, which is not a leap year", () => {
    expect(fires("0 0 0 29 2 *", "2096-03-01T00:00:00Z", 1)).toEqual(["2104-02-29T00:00:00Z"]);
  });

  it("returns null quickly for an expression that never matches", () => {
    const t0 = performance.now();
    expect(parseSchedule("0 0 0 30 2 *", job).next(0)).toBeNull();
    expect(nextFireTimes("0 0 0 31 4,6,9,11 *", job, 0, 5)).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(200);
  });

  it("is strictly after `after`, including sub-second `after` values", () => {
    const s = parseSchedule("* * * * * *", job);
    expect(s.next(ms("2026-01-01T00:00:00Z"))).toBe(ms("2026-01-01T00:00:01Z"));
    expect(s.next(ms("2026-01-01T00:00:00.999Z"))).toBe(ms("2026-01-01T00:00:01Z"));
    expect(s.next(ms("2026-01-01T00:00:00Z") - 1)).toBe(ms("2026-01-01T00:00:00Z"));
  });

  it("rejects a non-finite `after` as a caller bug, and ends at the edge of Date's range", () => {
    expect(thrown(() => parseSchedule("* * * * * *", job).next(Number.NaN)).code).toBe("INTERNAL");
    expect(thrown(() => parseSchedule("@every 1s", job).next(0, Number.POSITIVE_INFINITY)).code).toBe(
      "INTERNAL",
    );
    expect(parseSchedule("0 0 0 1 1 *", job).next(8.64e15 - 1000)).toBeNull();
    expect(
      parseSchedule("0 0 0 1 1 *", { jobName: "j", timezone: "Europe/Berlin" }).next(8.64e15 - 1000),
    ).toBeNull();
  });

  it("reports the normalised expression", () => {
    expect(parseSchedule("*/5 * * * *", job).expression).toBe("0 */5 * * * *");
    expect(parseSchedule("@daily", job).expression).toBe("0 0 0 * * *");
  });
});

describe("invalid schedules", () => {
  it.each([
    ["", "schedule: cannot be empty"],
    ["   ", "schedule: cannot be empty"],
    ["* * * *", "schedule: expected 5 or 6 fields, got 4"],
    ["* * * * * * *", "schedule: expected 5 or 6 fields, got 7"],
    ["0 0 25 * * *", 'schedule: field "hour" value 25 out of range 0-23'],
    ["60 * * * * *", 'schedule: field "second" value 60 out of range 0-59'],
    ["0 60 * * * *", 'schedule: field "minute" value 60 out of range 0-59'],
    ["0 0 0 0 * *", 'schedule: field "day of month" value 0 out of range 1-31'],
    ["0 0 0 32 * *", 'schedule: field "day of month" value 32 out of range 1-31'],
    ["0 0 0 * 13 *", 'schedule: field "month" value 13 out of range 1-12'],
    ["0 0 0 * * 8", 'schedule: field "day of week" value 8 out of range 0-7'],
    ["0 0 0 * FOO *", 'schedule: field "month" has invalid value "FOO"'],
    ["0 0 0 * * MON-", 'schedule: field "day of week" has invalid value ""'],
    ["0 0 L * * *", 'schedule: field "hour" has invalid value "L"'],
    ["0 0 0 1W * *", 'schedule: field "day of month" has invalid value "1W"'],
    ["0 0 0 * * 5#3", 'schedule: field "day of week" has invalid value "5#3"'],
    ["1,,2 * * * * *", 'schedule: field "second" has invalid value ""'],
    ["*/0 * * * * *", 'schedule: field "second" step must be a positive number in "*/0"'],
    ["*/x * * * * *", 'schedule: field "second" step must be a positive number in "*/x"'],
    ["0 5-3 * * * *", 'schedule: field "minute" range 5-3 is backwards in "5-3"'],
    ["1/2/3 * * * * *", 'schedule: field "second" has too many slashes in "1/2/3"'],
    ["1-2-3 * * * * *", 'schedule: field "second" has an invalid range "1-2-3"'],
    ["0 0 0 * * constructor", 'schedule: field "day of week" has invalid value "constructor"'],
    ["@every", "schedule: @every needs a duration like 1m30s"],
    ["@every abc", "schedule: @every needs a duration like 1m30s"],
    ["@every -5s", "schedule: @every needs a duration like 1m30s"],
    ["@every 10", "schedule: @every needs a duration like 1m30s"],
    ["@at badtime", 'schedule: @at needs an RFC3339 time with offset, got "badtime"'],
    ["@at", 'schedule: @at needs an RFC3339 time with offset, got ""'],
    ["@at 2026-01-01T00:00:00", 'schedule: @at needs an RFC3339 time with offset, got "2026-01-01T00:00:00"'],
    [
      "@at 2026-02-30T00:00:00Z",
      'schedule: @at needs an RFC3339 time with offset, got "2026-02-30T00:00:00Z"',
    ],
    [
      "@at 2026-01-01T24:00:00Z",
      'schedule: @at needs an RFC3339 time with offset, got "2026-01-01T24:00:00Z"',
    ],
    [
      "@at 2026-01-01 00:00:00Z",
      'schedule: @at needs an RFC3339 time with offset, got "2026-01-01 00:00:00Z"',
    ],
    ["@foo", 'schedule: unknown descriptor "@foo"'],
    ["@daily 5", 'schedule: @daily takes no argument, got "5"'],
    ["@manually now", 'schedule: @manually takes no argument, got "now"'],
    ["TZ=Nowhere/Land 0 0 * * * *", 'schedule: unknown time zone "Nowhere/Land"'],
    ["CRON_TZ=+05:30 0 0 * * * *", 'schedule: unknown time zone "+05:30"'],
    ["TZ= 0 0 * * * *", "schedule: TZ= prefix needs a time zone name"],
    ["TZ=Europe/Berlin", "schedule: nothing follows the TZ=Europe/Berlin prefix"],
  ])("%j", (spec, message) => {
    expect(thrown(() => parseSchedule(spec, job))).toEqual({
      code: "VALIDATION",
      message,
      field: "schedule",
    });
  });

  it("names the timezone field for a bad job timezone, even for @every", () => {
    const expected = {
      code: "VALIDATION",
      message: 'timezone: unknown time zone "notatimezone"',
      field: "timezone",
    };
    expect(thrown(() => parseSchedule("0 0 * * * *", { jobName: "j", timezone: "notatimezone" }))).toEqual(
      expected,
    );
    expect(thrown(() => parseSchedule("@every 1m", { jobName: "j", timezone: "notatimezone" }))).toEqual(
      expected,
    );
  });

  it("lets callers that allow a blank schedule detect it before parsing", () => {
    expect(isEmptySchedule("")).toBe(true);
    expect(isEmptySchedule(" \t")).toBe(true);
    expect(isEmptySchedule("@daily")).toBe(false);
  });
});

describe("descriptors", () => {
  const berlin = { jobName: "job", timezone: "Europe/Berlin" };
  it.each(Object.entries(DESCRIPTORS))("%s equals %s in the job's time zone", (descriptor, fields) => {
    const from = ms("2026-03-01T00:00:00Z");
    const viaDescriptor = nextFireTimes(descriptor, berlin, from, 6);
    expect(viaDescriptor).toHaveLength(6);
    expect(viaDescriptor).toEqual(nextFireTimes(fields, berlin, from, 6));
  });

  it.each([
    ["@yearly", ["2026-12-31T23:00:00Z", "2027-12-31T23:00:00Z"]],
    ["@annually", ["2026-12-31T23:00:00Z", "2027-12-31T23:00:00Z"]],
    ["@monthly", ["2026-03-31T22:00:00Z", "2026-04-30T22:00:00Z"]],
    ["@weekly", ["2026-03-21T23:00:00Z", "2026-03-28T23:00:00Z"]],
    ["@daily", ["2026-03-15T23:00:00Z", "2026-03-16T23:00:00Z"]],
    ["@midnight", ["2026-03-15T23:00:00Z", "2026-03-16T23:00:00Z"]],
    ["@hourly", ["2026-03-15T13:00:00Z", "2026-03-15T14:00:00Z"]],
    ["@minutely", ["2026-03-15T12:31:00Z", "2026-03-15T12:32:00Z"]],
    ["@DAILY", ["2026-03-15T23:00:00Z", "2026-03-16T23:00:00Z"]],
  ])("%s in Europe/Berlin", (descriptor, expected) => {
    expect(fires(descriptor, "2026-03-15T12:30:00Z", 2, berlin)).toEqual(expected);
  });

  it("@manually never fires", () => {
    const s = parseSchedule("@manually", job);
    expect(s.kind).toBe("manual");
    expect(s.next(0)).toBeNull();
    expect(nextFireTimes("@manually", job, 0, 3)).toEqual([]);
  });
});

describe("~ name hash", () => {
  const testJob = { jobName: "test_job" };
  it("sums Unicode code points, not UTF-16 units", () => {
    expect(nameHash("test_job")).toBe(858);
    expect(nameHash("😀")).toBe(0x1f600);
    expect(nameHash("")).toBe(0);
  });

  it.each([
    ["0 0 ~ * * *", "0 0 18 * * *"],
    ["0 0 0 1 ~ *", "0 0 0 1 7 *"],
    ["~ ~ ~ ~ ~ ~", "18 18 18 19 7 4"],
    ["0 ~/15 * * * *", "0 18/15 * * * *"],
    ["~ * * * *", "0 18 * * * *"],
    ["0 ~ * * *", "0 0 18 * * *"],
    ["0 0 1 * ~", "0 0 0 1 * 4"],
    ["TZ=Asia/Kolkata 0 0 ~ * * *", "0 0 18 * * *"],
  ])("%s -> %s", (spec, expected) => {
    expect(parseSchedule(spec, testJob).expression).toBe(expected);
  });

  it("fires at the hashed time", () => {
    expect(fires("0 0 ~ * * *", "2026-01-01T00:00:00Z", 1, testJob)).toEqual(["2026-01-01T18:00:00Z"]);
    // hash % 24 for "😀" is 16; summing UTF-16 units would give 13.
    expect(fires("0 0 ~ * * *", "2026-01-01T00:00:00Z", 1, { jobName: "😀" })).toEqual([
      "2026-01-01T16:00:00Z",
    ]);
  });
});

describe("@every", () => {
  const anchor = ms("2026-03-29T00:00:00.250Z");
  const at = (spec: string, after: number, n: number, timezone?: string) =>
    iso(nextFireTimes(spec, { jobName: "j", anchorMs: anchor, ...(timezone ? { timezone } : {}) }, after, n));

  it("counts slots from the anchor (floored to the second)", () => {
    expect(at("@every 1h30m10s", anchor, 3)).toEqual([
      "2026-03-29T01:30:10Z",
      "2026-03-29T03:00:20Z",
      "2026-03-29T04:30:30Z",
    ]);
  });

  it("keeps cadence from any `after`, including before the anchor", () => {
    const s = parseSchedule("@every 90s", { jobName: "j" });
    const a = ms("2026-03-29T00:00:00Z");
    expect(s.next(a + 10 * 90_000, anchor)).toBe(a + 11 * 90_000);
    expect(s.next(a + 10 * 90_000 - 1, anchor)).toBe(a + 10 * 90_000);
    expect(s.next(a - 1, anchor)).toBe(a);
    expect(s.next(a - 90_000, anchor)).toBe(a);
    expect(s.next(a - 90_001, anchor)).toBe(a - 90_000);
  });

  it("rounds sub-second intervals up to one second and truncates sub-second parts", () => {
    expect(at("@every 500ms", anchor, 2)).toEqual(["2026-03-29T00:00:01Z", "2026-03-29T00:00:02Z"]);
    expect(at("@every 0s", anchor, 1)).toEqual(["2026-03-29T00:00:01Z"]);
    expect(at("@every 1.9s", anchor, 2)).toEqual(["2026-03-29T00:00:01Z", "2026-03-29T00:00:02Z"]);
    expect(at("@every 1500ms", anchor, 2)).toEqual(["2026-03-29T00:00:01Z", "2026-03-29T00:00:02Z"]);
  });

  it("ignores the time zone, so a DST change does not bend the interval", () => {
    const out = nextFireTimes(
      "@every 1h",
      { jobName: "j", timezone: "Europe/Berlin", anchorMs: anchor },
      anchor,
      4,
    );
    expect(out.slice(1).map((t, i) => t - out[i]!)).toEqual([3_600_000, 3_600_000, 3_600_000]);
  });

  it("needs an anchor", () => {
    expect(thrown(() => parseSchedule("@every 1m", job).next(0)).code).toBe("INTERNAL");
  });
});

describe("@at", () => {
  it.each([
    ["@at 2026-12-31T23:59:00Z", "2026-12-31T23:59:00.000Z"],
    ["@at 2026-12-31t23:59:00z", "2026-12-31T23:59:00.000Z"],
    ["@at 2026-07-01T09:00:00+05:30", "2026-07-01T03:30:00.000Z"],
    ["@at 2026-07-01T09:00:00-04:00", "2026-07-01T13:00:00.000Z"],
    ["@at 2026-07-01T09:00:00.5Z", "2026-07-01T09:00:00.500Z"],
    ["@at 2026-07-01T09:00:00.123456789Z", "2026-07-01T09:00:00.123Z"],
  ])("%s fires once at %s", (spec, expected) => {
    const s = parseSchedule(spec, job);
    const t = ms(expected);
    expect(s.kind).toBe("at");
    expect(s.next(t - 1)).toBe(t);
    expect(s.next(t)).toBeNull();
    expect(s.next(t + 1000)).toBeNull();
    expect(nextFireTimes(spec, job, 0, 3)).toEqual([t]);
  });
});

describe("time zones", () => {
  it("applies the job timezone, with UTC when none is given", () => {
    expect(parseSchedule("0 0 9 * * *", job).timezone).toBe("UTC");
    expect(parseSchedule("@every 1m", { jobName: "j", timezone: "" }).timezone).toBe("UTC");
    const kolkata = { jobName: "j", timezone: "Asia/Kolkata" };
    expect(parseSchedule("0 0 9 * * *", kolkata).timezone).toBe("Asia/Kolkata");
    expect(fires("0 0 9 * * *", "2026-06-01T00:00:00Z", 2, kolkata)).toEqual([
      "2026-06-01T03:30:00Z",
      "2026-06-02T03:30:00Z",
    ]);
  });

  it.each([
    ["TZ=Asia/Kolkata 0 0 9 * * *"],
    ["CRON_TZ=Asia/Kolkata 0 0 9 * * *"],
    ["CRON_TZ=Asia/Kolkata   0 9 * * *"],
  ])("%s: the prefix wins over the job timezone", (spec) => {
    const opts = { jobName: "j", timezone: "America/New_York" };
    expect(parseSchedule(spec, opts).timezone).toBe("Asia/Kolkata");
    expect(fires(spec, "2026-06-01T00:00:00Z", 1, opts)).toEqual(["2026-06-01T03:30:00Z"]);
  });

  it("applies a prefix to descriptors too", () => {
    expect(fires("TZ=America/New_York @daily", "2026-06-01T00:00:00Z", 1)).toEqual(["2026-06-01T04:00:00Z"]);
  });

  it("validates IANA names; empty means UTC", () => {
    expect(() => validateTimezone("Europe/Berlin")).not.toThrow();
    expect(() => validateTimezone("Australia/Lord_Howe")).not.toThrow();
    expect(() => validateTimezone("UTC")).not.toThrow();
    expect(() => validateTimezone("")).not.toThrow();
    for (const bad of ["notatimezone", "Local", "+05:30", "Europe/Berlin ", "Mars/Olympus_Mons"]) {
      expect(thrown(() => validateTimezone(bad))).toEqual({
        code: "VALIDATION",
        message: `timezone: unknown time zone "${bad}"`,
        field: "timezone",
      });
    }
  });

  it("handles fixed-offset zones and dates before 1970", () => {
    expect(fires("0 0 0 * * *", "1965-06-01T00:00:00Z", 1, { jobName: "j", timezone: "Etc/GMT+5" })).toEqual([
      "1965-06-01T05:00:00Z",
    ]);
  });
});

describe("performance", () => {
  it("computes next() in microseconds, not by scanning", () => {
    const schedules = [
      parseSchedule("0 */15 * * * *", { jobName: "j", timezone: "Europe/Berlin" }),
      parseSchedule("0 30 2 * * *", { jobName: "j", timezone: "America/New_York" }),
      parseSchedule("0 0 0 1 1 *", { jobName: "j", timezone: "Australia/Lord_Howe" }),
      parseSchedule("* * * * * *", { jobName: "j" }),
    ];
    const start = ms("2026-01-01T00:00:00Z");
    const calls = 20_000;
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) schedules[i % schedules.length]!.next(start + i * 1_577_000);
    const perCallMs = (performance.now() - t0) / calls;
    // Typically ~10-20 µs; the bound is loose so a busy CI machine does not flake.
    expect(perCallMs).toBeLessThan(0.5);
  });
});
