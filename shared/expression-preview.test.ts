import { describe, expect, it } from "vitest";
import { previewExpression, readPreviewCount } from "./expression-preview";
import { parseInstant } from "./time";

const reason = (schedule: string, dst = "auto") =>
  previewExpression({ schedule, timezone: "Europe/Berlin", dst, n: 1, from: 0, name: "j" }).dst;

describe("previewExpression's DST rule and reason", () => {
  it.each([
    ["0 0 * * * *", "auto", "twice,skip", "follows real time: the hour field is *"],
    ["*/10 * * * * *", "auto", "twice,skip", "follows real time: the second field is */10"],
    ["@hourly", "auto", "twice,skip", "follows real time: the hour field is *"],
    [
      "0 0,30 1-3 * * *",
      "auto",
      "once,transition",
      "fixed times of day: second 0, minute 0,30 and hour 1-3 are neither wildcards nor steps",
    ],
    [
      "@daily",
      "twice",
      "twice,transition",
      "the missing hour as auto: fixed times of day: second 0, minute 0 and hour 0 are neither wildcards nor steps",
    ],
    [
      "0 0 * * * *",
      "transition",
      "twice,transition",
      "the repeated hour as auto: follows real time: the hour field is *",
    ],
    ["0 0 * * * *", "SKIP, once", "once,skip", "both halves given by the policy"],
  ])("%s under %s runs by %s", (schedule, dst, rule, why) => {
    const d = reason(schedule, dst);
    expect(`${d.rule?.repeated},${d.rule?.missing}`).toBe(rule);
    expect(d.reason).toBe(why);
  });

  it("has no rule for real instants", () => {
    expect(reason("@at 2027-01-01T00:00:00Z")).toMatchObject({
      rule: null,
      reason: expect.stringMatching(/^@at/),
    });
    expect(reason("@manually")).toMatchObject({ rule: null, reason: "@manually never runs on its own" });
  });
});

describe("preview inputs", () => {
  it("reads run counts from 1 to 1000", () => {
    expect(["1", "1000", "0", "1001", "01", "1e3", "", " 5"].map((t) => readPreviewCount(t))).toEqual([
      { n: 1 },
      { n: 1000 },
      { problem: 'must be an integer from 1 to 1000, got "0"' },
      { problem: 'must be an integer from 1 to 1000, got "1001"' },
      { n: 1 },
      { problem: 'must be an integer from 1 to 1000, got "1e3"' },
      { problem: 'must be an integer from 1 to 1000, got ""' },
      { problem: 'must be an integer from 1 to 1000, got " 5"' },
    ]);
  });

  it("reads RFC3339 instants with an offset and real dates only", () => {
    expect(
      [
        "2026-10-25T00:00:00+02:00",
        "2026-10-25T00:00:00Z",
        "2024-02-29T00:00:00Z",
        "2026-10-25T00:00:00",
        "2026-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "tomorrow",
      ].map(parseInstant),
    ).toEqual([
      Date.UTC(2026, 9, 24, 22),
      Date.UTC(2026, 9, 25),
      Date.UTC(2024, 1, 29),
      null,
      null,
      null,
      null,
    ]);
  });
});
