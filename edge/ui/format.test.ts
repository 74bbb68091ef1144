import { describe, expect, it } from "vitest";
import { formatDuration, latest, parseApiTime, relativeTime, utcText } from "./format";

describe("dashboard formatting", () => {
  it("writes durations at the precision an operator reads", () => {
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(1234)).toBe("1.23 s");
    expect(formatDuration(12_340)).toBe("12.3 s");
    expect(formatDuration(245_000)).toBe("4m 05s");
    expect(formatDuration(2 * 3600_000 + 10 * 60_000)).toBe("2h 10m");
    expect(formatDuration(3 * 86400_000 + 4 * 3600_000)).toBe("3d 4h");
    expect(formatDuration(null)).toBe("—");
  });

  it("says when, relative to now, and never for no time", () => {
    const now = Date.UTC(2026, 11, 3);
    expect(relativeTime(now + 5 * 60_000, now)).toBe("in 5m 00s");
    expect(relativeTime(now - 3 * 3600_000, now)).toBe("3h 00m ago");
    expect(relativeTime(now + 1000, now)).toBe("just now");
    expect(relativeTime(null, now)).toBe("never");
  });

  it("reads Dkron's zero time as no time", () => {
    expect(parseApiTime("0001-01-01T00:00:00Z")).toBeNull();
    expect(parseApiTime("2026-12-03T06:30:00Z")).toBe(Date.UTC(2026, 11, 3, 6, 30));
    expect(utcText(Date.UTC(2026, 11, 3, 6, 30))).toBe("2026-12-03 06:30:00 UTC");
    expect(latest(null, "2026-12-03T06:30:00Z")).toBe(Date.UTC(2026, 11, 3, 6, 30));
    expect(latest("2026-12-03T07:00:00Z", "2026-12-03T06:30:00Z")).toBe(Date.UTC(2026, 11, 3, 7));
  });
});
