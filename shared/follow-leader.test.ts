import { describe, expect, it } from "vitest";
import { AppError } from "./errors";
import { followLeader, leaderOf } from "./follow-leader";
import { nodeUrl } from "./host-port";

const notLeader = (leader: string) => new AppError("NOT_LEADER", "not the leader", { leader });

/** An attempt that answers NOT_LEADER from each node of `chain` in turn, then `ok` (or throws `end`). */
function chain(leaders: string[], end?: unknown) {
  const targets: (string | undefined)[] = [];
  const attempt = async (target: string | undefined) => {
    targets.push(target);
    const next = leaders[targets.length - 1];
    if (next !== undefined) throw notLeader(next);
    if (end !== undefined) throw end;
    return "ok";
  };
  return { attempt, targets };
}

describe("followLeader", () => {
  it("starts where the caller is, then follows each leader named", async () => {
    const c = chain(["b:1", "https://c:2"]);
    await expect(followLeader(c.attempt)).resolves.toBe("ok");
    expect(c.targets).toEqual([undefined, "http://b:1", "https://c:2"]);
  });

  it("gives up after maxHops and throws the last NOT_LEADER", async () => {
    const cases: [number, number][] = [
      [0, 1],
      [1, 2],
      [3, 4],
    ];
    for (const [hops, attempts] of cases) {
      const c = chain(["a:1", "b:1", "c:1", "d:1", "e:1"]);
      const err = await followLeader(c.attempt, hops).catch((e: unknown) => e);
      expect(leaderOf(err), `hops ${hops}`).toBe(["a:1", "b:1", "c:1", "d:1"][attempts - 1]);
      expect(c.targets).toHaveLength(attempts);
    }
    const dflt = chain(["a:1", "b:1", "c:1", "d:1", "e:1"]);
    await expect(followLeader(dflt.attempt)).rejects.toThrow("not the leader");
    expect(dflt.targets).toHaveLength(4);
  });

  it("throws any other error, and a NOT_LEADER naming no leader, at once", async () => {
    const others: unknown[] = [
      new AppError("UNAVAILABLE", "down"),
      new AppError("NOT_LEADER", "no leader is elected yet", { leader: "" }),
      new Error("bug"),
    ];
    for (const e of others) {
      const c = chain(["b:1"], e);
      await expect(followLeader(c.attempt)).rejects.toBe(e);
      expect(c.targets).toEqual([undefined, "http://b:1"]);
    }
  });

  it("reads a leader from a plain error object off the wire", () => {
    expect(leaderOf({ code: "NOT_LEADER", message: "x", details: { leader: "b:1" } })).toBe("b:1");
    expect(leaderOf({ code: "CONFLICT", message: "x", details: { leader: "b:1" } })).toBeUndefined();
    expect(nodeUrl("b:1")).toBe("http://b:1");
    expect(nodeUrl("https://b:1")).toBe("https://b:1");
  });
});
