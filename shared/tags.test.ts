import { describe, expect, it } from "vitest";
import { parseTargetTags, selectTargets } from "./tags";

const nodes = [
  { name: "a", tags: { role: "web", server: "true" } },
  { name: "b", tags: { role: "web" } },
  { name: "c", tags: { role: "db", server: "true" } },
];

describe("target tags", () => {
  it("parses counts and takes the smallest", () => {
    expect(parseTargetTags({ a: "x:5", b: "y:2", c: "z" })).toEqual({
      match: { a: "x", b: "y", c: "z" },
      count: 2,
    });
    expect(parseTargetTags({ a: "value:cardinality" }).count).toBe(0);
    expect(parseTargetTags({ a: "v:1:2" })).toEqual({ match: { a: "v" }, count: Number.POSITIVE_INFINITY });
  });

  it("no tags selects every member", () => {
    expect(selectTargets(nodes, null, () => 0).map((n) => n.name)).toEqual(["a", "b", "c"]);
  });

  it("all tags must match", () => {
    expect(selectTargets(nodes, { role: "web", server: "true" }, () => 0).map((n) => n.name)).toEqual(["a"]);
    expect(selectTargets(nodes, { role: "cache" }, () => 0)).toEqual([]);
  });

  it("limits to the count, choosing uniformly", () => {
    const seen = new Map<string, number>();
    let s = 1;
    const rnd = () => {
      s = (s * 16807) % 2147483647;
      return s / 2147483647;
    };
    for (let i = 0; i < 3000; i++) {
      const [pick] = selectTargets(nodes, { server: "true:1" }, rnd);
      seen.set(pick!.name, (seen.get(pick!.name) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(["a", "c"]);
    for (const n of seen.values()) expect(n).toBeGreaterThan(1200);
  });

  it("an invalid or zero count selects none", () => {
    expect(selectTargets(nodes, { role: "web:0" }, () => 0)).toEqual([]);
    expect(selectTargets(nodes, { role: "web:x" }, () => 0)).toEqual([]);
  });
});
