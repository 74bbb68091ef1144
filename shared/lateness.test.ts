import { describe, expect, it } from "vitest";
import { driftOf, latenessOf, nearestRank } from "./lateness";

/** Lateness figures of unsorted samples, reading ranks from the sorted array as the store reads SQL. */
const figures = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return latenessOf(sorted.length, sorted.at(-1) ?? 0, (rank) => sorted[rank - 1]!);
};

describe("nearestRank", () => {
  it.each([
    // n, percent, rank
    [1, 50, 1],
    [1, 99, 1],
    [2, 50, 1],
    [3, 50, 2],
    [4, 50, 2],
    [10, 50, 5],
    [10, 99, 10],
    [99, 99, 99],
    [100, 50, 50],
    // 99% of 100 is rank 99 exactly: a float product a hair above 99 would give 100.
    [100, 99, 99],
    [101, 99, 100],
    [200, 99, 198],
    [1000, 99, 990],
    [7, 0, 1],
    [7, 100, 7],
  ])("n=%i, p%i → rank %i", (n, percent, rank) => {
    expect(nearestRank(n, percent)).toBe(rank);
  });

  it("has no rank without samples", () => {
    expect(() => nearestRank(0, 50)).toThrow(RangeError);
  });
});

describe("latenessOf", () => {
  it.each([
    ["no samples", [], null],
    ["one sample", [250], { samples: 1, p50_ms: 250, p99_ms: 250, max_ms: 250 }],
    ["two: p50 is the lower", [300, 100], { samples: 2, p50_ms: 100, p99_ms: 300, max_ms: 300 }],
    [
      "odd count: the median",
      [50, 400, 250, 100, 300],
      { samples: 5, p50_ms: 250, p99_ms: 400, max_ms: 400 },
    ],
    // A runner whose clock is behind the leader's reports starts before the slot.
    ["negative (clock skew) kept", [-20, 10, 30], { samples: 3, p50_ms: 10, p99_ms: 30, max_ms: 30 }],
  ])("%s", (_what, samples, want) => {
    expect(figures(samples)).toEqual(want);
  });

  it("p99 of 100 samples 1..100 ms is 99, one outlier among them does not move p50", () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(figures(samples)).toEqual({ samples: 100, p50_ms: 50, p99_ms: 99, max_ms: 100 });
    samples[99] = 60_000;
    expect(figures(samples)).toEqual({ samples: 100, p50_ms: 50, p99_ms: 99, max_ms: 60_000 });
  });
});

describe("driftOf", () => {
  it.each([
    ["no start", 60_000, { count: 0, first: 0, last: 0 }, null],
    ["one start: no interval yet", 60_000, { count: 1, first: 5, last: 5 }, null],
    [
      "on time",
      60_000,
      { count: 4, first: 1000, last: 181_000 },
      { configured_ms: 60_000, effective_ms: 60_000, samples: 3 },
    ],
    [
      "every other slot skipped: twice the cadence",
      60_000,
      { count: 3, first: 0, last: 240_000 },
      { configured_ms: 60_000, effective_ms: 120_000, samples: 2 },
    ],
    [
      "rounded to the ms",
      1000,
      { count: 4, first: 0, last: 3001 },
      { configured_ms: 1000, effective_ms: 1000, samples: 3 },
    ],
  ])("%s", (_what, configured, span, want) => {
    expect(driftOf(configured, span)).toEqual(want);
  });
});
