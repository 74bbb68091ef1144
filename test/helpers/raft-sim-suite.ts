import { describe, it } from "vitest";
import { defaultRun, runSeed, seedsFor } from "./raft-sim-run";

/** Seeds per `npm test` run across both cluster sizes (SIM_SEEDS overrides, SIM_SEED replays one). */
export const DEFAULT_SEEDS = 1000;

/**
 * One test per seed for a cluster size (even seeds run 3 nodes, odd seeds 5), so vitest spreads
 * the two sizes over two workers and a failure names its seed, the replay command and a trace.
 */
export function defineSeedSuite(voters: 3 | 5): void {
  const seeds = seedsFor(voters, DEFAULT_SEEDS);
  describe(`Raft simulation, ${voters}-node clusters`, () => {
    if (seeds.length === 0) it.skip(`no seeds for ${voters} nodes in this run`, () => {});
    for (const seed of seeds) {
      it(`seed ${seed} stays safe, linearizable and live`, () => {
        const r = runSeed(seed, { voters, ...defaultRun });
        if (!r.ok) throw new Error(r.report);
      });
    }
  });
}
