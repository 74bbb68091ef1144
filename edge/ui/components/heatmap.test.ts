import { describe, expect, it } from "vitest";
import { Heatmap, heatLevel } from "./heatmap";

describe("fire heatmap", () => {
  it("starts every row on the hour, so a column is the same minute in every row", () => {
    const from = Date.UTC(2026, 11, 3, 9, 41);
    const minutes = Array.from({ length: 1440 }, (_, i) => (i === 0 ? 5 : i === 19 ? 2 : 0));
    const html = String(Heatmap({ from, minutes, approximate: false }));
    const labels = [...html.matchAll(/<div class="h">(\d\d:\d\d)<\/div>/g)].map((m) => m[1]);
    expect(labels[0]).toBe("09:00");
    expect(labels[1]).toBe("10:00");
    expect(labels).toHaveLength(25);
    // 41 padding cells before now, then now's minute (the busiest), and 10:00 with 2 fires.
    const first = html.slice(html.indexOf("09:00"), html.indexOf("10:00"));
    expect(first.match(/class="c out"/g)).toHaveLength(41);
    expect(first).toContain('title="09:41 UTC: 5 fires"');
    expect(html).toContain('title="10:00 UTC: 2 fires"');
    expect(html).toContain("busiest minute 09:41 UTC with 5");
    // 24 hours of cells in all, whatever the padding.
    expect(html.match(/class="c l\d"/g)).toHaveLength(1440);
  });

  it("shades by share of the busiest minute", () => {
    expect(heatLevel(0, 10)).toBe(0);
    expect(heatLevel(1, 10)).toBe(1);
    expect(heatLevel(10, 10)).toBe(4);
  });
});
