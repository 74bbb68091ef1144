import { describe, expect, it } from "vitest";
import { forkRandom } from "../../control/raft/random";
import { KvWorkload } from "../helpers/kv-workload";
import { RaftCluster, TICK } from "../helpers/raft-cluster";
import { checkLinearizable, kvModel } from "../lincheck";

const ELECTION = 10;

function leaderTerms(c: RaftCluster): Set<string> {
  const out = new Set<string>();
  for (const n of c.nodes.values()) if (n.raft?.role === "leader") out.add(`${n.id}@${n.raft.term}`);
  return out;
}

describe("Raft liveness", () => {
  for (const voters of [3, 5]) {
    it(`${voters} nodes: no spurious election in 10,000 fault-free ticks under load`, () => {
      const c = new RaftCluster({
        seed: 1000 + voters,
        voters,
        tunables: { electionTicks: ELECTION, heartbeatTicks: 1 },
        // Delays up to 2.5 ticks each way and slow disks: slow, but nothing is lost.
        weather: { dropRate: 0, dupRate: 0, minDelay: 1, maxDelay: 25 },
        diskMaxDelay: 8,
        tickJitter: 1,
      });
      const w = new KvWorkload(c, forkRandom(c.random), {
        clients: 3,
        keys: ["a", "b"],
        opTimeoutTicks: 4 * ELECTION,
        thinkTicks: 5,
      });
      expect(c.runUntilTrue(() => c.leader() !== undefined, 10 * ELECTION)).toBe(true);
      const first = [...leaderTerms(c)];
      w.start();
      const seen = new Set<string>(first);
      const terms = new Set<number>();
      for (let t = 0; t < 10_000; t += 100) {
        c.runTicks(100);
        for (const lt of leaderTerms(c)) seen.add(lt);
        for (const n of c.nodes.values()) terms.add(n.raft?.term ?? -1);
      }
      w.stop();
      c.runTicks(5 * ELECTION);
      expect([...seen]).toEqual(first);
      expect([...terms]).toHaveLength(1);
      expect(w.stats.unknown).toBe(0);
      expect(w.stats.ok).toBeGreaterThan(1000);
      expect(checkLinearizable(kvModel, w.history, { timeoutMs: 10_000 }).result).toBe("ok");
    });
  }

  it("after a leader is cut off and the network heals, a leader commits a write within a bound", () => {
    const c = new RaftCluster({
      seed: 77,
      voters: 5,
      weather: { dropRate: 0.05, dupRate: 0.02, minDelay: 1, maxDelay: 10 },
      diskMaxDelay: 2,
    });
    expect(c.runUntilTrue(() => c.leader() !== undefined, 10 * ELECTION)).toBe(true);
    const old = c.leader()?.id ?? "";
    c.net.partition([[old], c.ids().filter((x) => x !== old)]);
    c.runTicks(5 * ELECTION);
    c.crash(c.ids().find((x) => x !== old && c.leader()?.id !== x) ?? "");
    c.runTicks(5 * ELECTION);
    c.healAll({ dropRate: 0, dupRate: 0, minDelay: 1, maxDelay: 10 });
    const healedAt = c.now;
    let done = false;
    let proposed = "";
    const ok = c.runUntilTrue(() => {
      const l = c.leader();
      const key = l?.raft ? `${l.id}@${l.raft.term}` : "";
      if (l && !done && key !== proposed) {
        const cmd = JSON.stringify({ id: `w-${key}`, op: "put", key: "k", value: key });
        if (c.submitWrite(l.id, `w-${key}`, cmd, () => (done = true))) proposed = key;
      }
      return done;
    }, 20 * ELECTION);
    expect(ok).toBe(true);
    expect((c.now - healedAt) / TICK).toBeLessThanOrEqual(20 * ELECTION);
  });
});
