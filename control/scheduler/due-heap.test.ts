import { describe, expect, it } from "vitest";
import { DueHeap } from "./due-heap";

describe("DueHeap", () => {
  it("pops entries earliest first, ties by name, whatever order they were pushed in", () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const h = new DueHeap();
    const all = Array.from({ length: 500 }, (_, i) => ({ at: Math.floor(rand() * 50), name: `j${i}` }));
    for (const d of all) h.push(d);
    const out = [];
    for (let d = h.pop(); d; d = h.pop()) out.push(d);
    expect(out).toEqual([...all].sort((a, b) => a.at - b.at || (a.name < b.name ? -1 : 1)));
    expect(h.size).toBe(0);
    expect(h.peek()).toBeUndefined();
  });
});
