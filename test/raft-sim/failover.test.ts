import { describe, expect, it } from "vitest";
import { seededRandom } from "../../control/raft/random";
import { RaftCluster, TICK } from "../helpers/raft-cluster";

// Killing the leader of a 3-node cluster leaves two survivors, and a split vote between them costs a
// whole extra election timeout (the dead node never answers, so neither candidate learns it lost).
// With in-order links, as the production transport's one stream per peer gives, the pre-vote
// tie-break leaves no way to split: whatever the timing, the survivors elect a leader in the next
// term. Timings are in bench/raft-election.ts; this checks the term count only.

const ELECTION = 10;
const SEEDS = 300;

/** Kills the leader at a seed-chosen moment; returns the terms the next election took. */
function termsAfterKill(seed: number, maxDelay: number, diskMaxDelay: number): number {
  const c = new RaftCluster({
    seed,
    voters: 3,
    fifo: true,
    tickJitter: 1,
    tunables: { electionTicks: ELECTION, heartbeatTicks: 1 },
    weather: { dropRate: 0, dupRate: 0, minDelay: 1, maxDelay },
    diskMaxDelay,
  });
  if (!c.runUntilTrue(() => c.leader() !== undefined, 20 * ELECTION))
    throw new Error(`seed ${seed}: no leader`);
  const r = seededRandom(seed);
  c.runTicks(ELECTION + r.int(2 * ELECTION));
  c.runUntil(c.now + r.int(TICK));
  const old = c.leader();
  if (!old?.raft) throw new Error(`seed ${seed}: leader lost before the kill`);
  const term = old.raft.term;
  c.crash(old.id);
  if (!c.runUntilEvent(() => c.leader() !== undefined, 10 * ELECTION)) {
    throw new Error(`seed ${seed}: no leader after the kill\n${c.trace.format()}`);
  }
  return (c.leader()?.raft?.term ?? term) - term;
}

describe("leader failover, 3 nodes, in-order links", () => {
  for (const [label, maxDelay, disk] of [
    ["fast links and disks", 3, 2],
    ["links and disks up to a tick", 10, 8],
  ] as const) {
    it(`${label}: the survivors elect a leader in the next term, every seed`, () => {
      const split: number[] = [];
      for (let seed = 1; seed <= SEEDS; seed++) {
        if (termsAfterKill(seed, maxDelay, disk) !== 1) split.push(seed);
      }
      expect(split).toEqual([]);
    });
  }
});
