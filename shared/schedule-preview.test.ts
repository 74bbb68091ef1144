import { describe, expect, it } from "vitest";
import { parseSchedule } from "./schedule";
import { formatOffset, previewSchedule } from "./schedule-preview";

const preview = (spec: string, timezone: string, dst: string, from: string, n: number) =>
  previewSchedule(parseSchedule(spec, { jobName: "j", timezone, dst }), Date.parse(from), n);

describe("previewSchedule", () => {
  it("lists each run with the zone's offset and marks both occurrences of a repeated hour", () => {
    const p = preview("0 0 * * * *", "Europe/Berlin", "auto", "2026-10-25T00:30:00+02:00", 4);
    expect(p.dst).toEqual({ repeated: "twice", missing: "skip" });
    expect(p.entries.map((e) => [e.local, e.mark])).toEqual([
      ["2026-10-25T01:00:00+02:00", null],
      ["2026-10-25T02:00:00+02:00", "repeated-first"],
      ["2026-10-25T02:00:00+01:00", "repeated-second"],
      ["2026-10-25T03:00:00+01:00", null],
    ]);
    expect(p.entries[2]!.at).toBe("2026-10-25T01:00:00.000Z");
    expect(p.entries[2]!.note).toContain("second occurrence");
  });

  it("under once, the run after the repeated hour is marked as the first after the transition", () => {
    const p = preview("0 0 * * * *", "Europe/Berlin", "once", "2026-10-25T01:30:00+02:00", 2);
    expect(p.entries.map((e) => [e.local, e.mark])).toEqual([
      ["2026-10-25T02:00:00+02:00", "repeated-first"],
      ["2026-10-25T03:00:00+01:00", "after-transition"],
    ]);
  });

  it("lists the wall times skip drops, without counting them as runs", () => {
    const p = preview("30 2 * * *", "Europe/Berlin", "skip", "2026-03-28T12:00:00Z", 2);
    expect(p.entries.map((e) => [e.local, e.runs, e.mark])).toEqual([
      ["2026-03-29T03:00:00+02:00", false, "skipped"],
      ["2026-03-30T02:30:00+02:00", true, "after-transition"],
      ["2026-03-31T02:30:00+02:00", true, null],
    ]);
    expect(p.entries[0]!.note).toBe(
      "clocks jump from 02:00 to 03:00: 02:30 never happens and does not run (dst skip)",
    );
  });

  it("marks a run moved to the transition instant under transition", () => {
    const p = preview("30 2 * * *", "Europe/Berlin", "auto", "2026-03-28T12:00:00Z", 1);
    expect(p.entries.map((e) => [e.local, e.mark])).toEqual([["2026-03-29T03:00:00+02:00", "transition"]]);
  });

  it("has no marks in UTC, and @every runs by real time", () => {
    expect(
      preview("@hourly", "", "auto", "2026-10-25T00:00:00Z", 3).entries.every((e) => e.mark === null),
    ).toBe(true);
    const every = previewSchedule(
      parseSchedule("@every 1h", { jobName: "j", timezone: "Europe/Berlin" }),
      Date.parse("2026-10-24T23:30:00Z"),
      3,
      0,
    );
    expect(every.dst).toBeNull();
    expect(every.entries.map((e) => e.local)).toEqual([
      "2026-10-25T02:00:00+02:00",
      "2026-10-25T02:00:00+01:00",
      "2026-10-25T03:00:00+01:00",
    ]);
  });

  it("formats offsets", () => {
    expect([
      formatOffset(0),
      formatOffset(-18_000_000),
      formatOffset(37_800_000),
      formatOffset(-3_600_000 - 25_000),
    ]).toEqual(["+00:00", "-05:00", "+10:30", "-01:00:25"]);
  });
});
