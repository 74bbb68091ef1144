import { describe, expect, it } from "vitest";
import { generateGossipKey } from "./gossip";
import {
  checkGossipFlags,
  DEFAULT_GOSSIP_BIND,
  GossipFlagError,
  planGossip,
  runnerMeta,
  settingsFromJoin,
} from "./gossip-settings";

describe("the runner's gossip plan", () => {
  const saved = settingsFromJoin({}, ["10.0.0.1:8946", "10.0.0.2:8946"]);

  it("defaults to 0.0.0.0:7946 (free port allowed) and the control nodes' addresses from the join answer", () => {
    expect(planGossip(saved, [], {})).toEqual({
      bind: DEFAULT_GOSSIP_BIND,
      bindExplicit: false,
      join: ["10.0.0.1:8946", "10.0.0.2:8946"],
      keys: [],
    });
  });

  it("uses what join saved, and this command's flags over it (the keys come resolved)", () => {
    const key = generateGossipKey();
    const s = settingsFromJoin({ bind: "10.0.0.9:7000", join: ["10.0.0.5:7946"] }, ["10.0.0.1:8946"]);
    expect(planGossip(s, [key], {})).toMatchObject({
      bind: "10.0.0.9:7000",
      bindExplicit: true,
      join: ["10.0.0.5:7946"],
      keys: [key],
    });
    const other = generateGossipKey();
    expect(
      planGossip(s, [key], { bind: "127.0.0.1:0", join: ["127.0.0.1:1"], encrypt: [other] }),
    ).toMatchObject({
      bind: "127.0.0.1:0",
      join: ["127.0.0.1:1"],
      keys: [key],
    });
  });

  it("drops seeds from the join answer that are not host:port", () => {
    expect(settingsFromJoin({}, ["nonsense", "10.0.0.1:8946"]).seeds).toEqual(["10.0.0.1:8946"]);
  });

  it("refuses a bad flag naming it", () => {
    const cases: [Parameters<typeof checkGossipFlags>[0], RegExp][] = [
      [{ bind: "nope" }, /--gossip-bind/],
      [{ join: ["10.0.0.1"] }, /--gossip-join: "10.0.0.1" is not host:port/],
      [{ advertise: "x" }, /--gossip-advertise/],
      [{ encrypt: ["short"] }, /--encrypt: .*32 bytes/],
    ];
    for (const [flags, re] of cases) {
      expect(() => checkGossipFlags(flags)).toThrow(GossipFlagError);
      expect(() => checkGossipFlags(flags)).toThrow(re);
    }
    expect(() =>
      checkGossipFlags({ bind: "0.0.0.0:0", join: ["h:1"], encrypt: [generateGossipKey()] }),
    ).not.toThrow();
  });

  it("keeps the gossip meta within 512 bytes, leaving out the tags that do not fit", () => {
    const small = runnerMeta("0.1.0", { zone: "a" });
    expect(small).toEqual({ meta: { role: "runner", version: "0.1.0", tags: { zone: "a" } }, dropped: [] });
    const tags = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, "v".repeat(100)]));
    const big = runnerMeta("0.1.0", tags);
    expect(big.dropped.length).toBeGreaterThan(0);
    expect(Buffer.byteLength(JSON.stringify(big.meta))).toBeLessThanOrEqual(512);
    expect(Object.keys(big.meta.tags).length + big.dropped.length).toBe(10);
  });
});
