import { describe, expect, it } from "vitest";
import { formatTable, meets, targetText, toRow } from "../bench/report";

describe("bench figures (npm run bench's table)", () => {
  it("judges each figure against its target, by value or by ratio to the same-run baseline", () => {
    expect(meets({ figure: "p99", ours: 40, unit: "ms", target: { max: 50 } })).toBe(true);
    expect(meets({ figure: "p99", ours: 60, unit: "ms", target: { max: 50 } })).toBe(false);
    expect(meets({ figure: "rate", ours: 900, unit: "jobs/s", target: { min: 1000 } })).toBe(false);
    expect(meets({ figure: "burst", ours: 120, baseline: 100, unit: "ms", target: { maxRatio: 1.25 } })).toBe(
      true,
    );
    expect(meets({ figure: "burst", ours: 130, baseline: 100, unit: "ms", target: { maxRatio: 1.25 } })).toBe(
      false,
    );
    // A ratio target without a baseline, a note or no target: no verdict; a figure that could not be
    // measured (Infinity: the thing never happened) misses its target.
    expect(meets({ figure: "x", ours: 1, unit: "ms", target: { maxRatio: 2 } })).toBeNull();
    expect(meets({ figure: "x", ours: 1, unit: "ms", target: { note: "≈ 1" } })).toBeNull();
    expect(meets({ figure: "x", ours: 1, unit: "ms" })).toBeNull();
    expect(meets({ figure: "x", ours: Number.POSITIVE_INFINITY, unit: "ms", target: { max: 5 } })).toBe(
      false,
    );
  });

  it("prints one aligned row per figure with ratio, target and verdict", () => {
    const rows = [
      toRow("burst", {
        figure: "1,000 http p99",
        ours: 812,
        baseline: 700,
        baselineWhat: "bare",
        unit: "ms",
        target: { maxRatio: 1.25 },
      }),
      toRow("jobs", { figure: "POST rate", ours: 935, unit: "jobs/s", target: { min: 1000 } }),
    ];
    expect(rows[0]!.ratio).toBeCloseTo(812 / 700);
    expect(targetText({ min: 1000 }, "jobs/s")).toBe("≥ 1,000 jobs/s");
    const lines = formatTable(rows, true).split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^bench\s+figure\s+ours\s+baseline\s+ratio\s+target/);
    expect(lines[2]).toContain("812 ms");
    expect(lines[2]).toContain("700 ms (bare)");
    expect(lines[2]).toContain("1.16×");
    expect(lines[2]).toMatch(/≤ 1.25× baseline\s+met$/);
    expect(lines[3]).toMatch(/≥ 1,000 jobs\/s\s+NOT MET$/);
    // Columns line up: every row's "ours" starts where the header's does.
    const col = lines[0]!.indexOf("ours");
    expect(lines[2]!.slice(col)).toMatch(/^812 ms/);
  });
});
