import { describe, expect, it } from "vitest";
import { loadTimeZone, resolveWall, toWall } from "./timezone";

const wall = (iso: string) => Date.parse(`${iso}Z`);
const at = (iso: string) => Date.parse(iso);

describe("resolveWall", () => {
  const lordHowe = loadTimeZone("Australia/Lord_Howe");
  const newYork = loadTimeZone("America/New_York");

  it.each([
    // Lord Howe, 4 Oct 2026: 02:00 +10:30 jumps to 02:30 +11.
    [lordHowe, "2026-10-04T01:59:59", { kind: "single", instant: at("2026-10-03T15:29:59Z") }],
    [lordHowe, "2026-10-04T02:00:00", { kind: "gap", transition: at("2026-10-03T15:30:00Z") }],
    [lordHowe, "2026-10-04T02:29:59", { kind: "gap", transition: at("2026-10-03T15:30:00Z") }],
    [lordHowe, "2026-10-04T02:30:00", { kind: "single", instant: at("2026-10-03T15:30:00Z") }],
    // Lord Howe, 5 Apr 2026: 02:00 +11 falls back to 01:30 +10:30.
    [lordHowe, "2026-04-05T01:29:59", { kind: "single", instant: at("2026-04-04T14:29:59Z") }],
    [
      lordHowe,
      "2026-04-05T01:30:00",
      {
        kind: "repeat",
        first: at("2026-04-04T14:30:00Z"),
        second: at("2026-04-04T15:00:00Z"),
        overlapEndWall: wall("2026-04-05T02:00:00"),
      },
    ],
    [lordHowe, "2026-04-05T02:00:00", { kind: "single", instant: at("2026-04-04T15:30:00Z") }],
    // New York, 8 Mar 2026: 02:00 EST jumps to 03:00 EDT.
    [newYork, "2026-03-08T02:30:00", { kind: "gap", transition: at("2026-03-08T07:00:00Z") }],
    [newYork, "2026-03-08T03:00:00", { kind: "single", instant: at("2026-03-08T07:00:00Z") }],
  ] as const)("%#: %s", (zone, local, expected) => {
    expect(resolveWall(zone, wall(local))).toEqual(expected);
  });

  it("reads wall clocks to the second, half-hour offsets included", () => {
    expect(toWall(loadTimeZone("Asia/Kolkata"), at("2026-06-01T00:00:00.999Z"))).toBe(
      wall("2026-06-01T05:30:00"),
    );
    expect(toWall(loadTimeZone(""), at("2026-06-01T00:00:01Z"))).toBe(wall("2026-06-01T00:00:01"));
  });
});
