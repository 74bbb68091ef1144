import { describe, expect, it } from "vitest";
import { Leases, lostFinish } from "./leases";

describe("Leases", () => {
  it("expires a lease not renewed within leaseMs, and only once", () => {
    const l = new Leases(1000);
    l.grant("a", "r1", 0);
    l.grant("b", "r2", 0);
    expect(l.renew(["b", "zzz"], 800)).toEqual(["zzz"]);
    expect(l.takeExpired(999)).toEqual([]);
    expect(l.takeExpired(1000)).toEqual([{ id: "a", lease: { node: "r1", deadline: 1000 } }]);
    expect(l.takeExpired(1000)).toEqual([]);
    expect(l.takeExpired(1800)).toEqual([{ id: "b", lease: { node: "r2", deadline: 1800 } }]);
  });

  it("forgets released and cleared leases", () => {
    const l = new Leases(10);
    l.grant("a", "r1", 0);
    l.grant("b", "r1", 0);
    l.release("a");
    expect(l.renew(["a"], 5)).toEqual(["a"]);
    l.clear();
    expect(l.takeExpired(1_000)).toEqual([]);
  });

  it.each([
    [100, 100],
    [2000, 500],
    [30_000, 1000],
  ])("checks a %i ms lease every %i ms", (leaseMs, every) => {
    expect(new Leases(leaseMs).checkEveryMs()).toBe(every);
  });

  it("records a lost execution with the output seen so far", () => {
    expect(lostFinish({ id: "x", node: "r1", liveOutput: "half\n", leaseMs: 30_000, now: 7 })).toEqual({
      type: "execution.finish",
      at: 7,
      id: "x",
      state: "lost",
      success: false,
      output: 'half\n\nlost: runner "r1" stopped reporting this execution for 30s',
      exitCode: null,
      finishedAt: 7,
    });
    expect(lostFinish({ id: "x", node: "r1", liveOutput: "", leaseMs: 1500, now: 7 }).output).toBe(
      'lost: runner "r1" stopped reporting this execution for 2s',
    );
  });
});
