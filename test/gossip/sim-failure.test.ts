import { describe, expect, it } from "vitest";
import { resolveGossipConfig, retransmitLimit, suspicionMaxMs, suspicionMinMs } from "../../runner/gossip";
import { GossipSim, gossipSeeds } from "../helpers/gossip-sim";

// 100 members over a seeded network that loses 1% of datagrams (1-5 ms delay), memberlist's default
// timings. A failing seed prints itself and the last view changes; replay with GOSSIP_SEED=<seed>.
const N = 100;
const cfg = resolveGossipConfig();
const MIN = suspicionMinMs(cfg, N);
const MAX = suspicionMaxMs(cfg, N);
/** The longest a broadcast stays queued anywhere: its retransmits, one gossip round each. */
const SPREAD = retransmitLimit(cfg, N) * cfg.gossipInterval;

function withSeed<T>(seed: number, sim: GossipSim, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    console.error(`gossip seed=${seed} failed (replay: GOSSIP_SEED=${seed})\n${sim.trace.format()}`);
    throw e;
  }
}

describe("gossip: 100 members, 1% loss", () => {
  for (const seed of gossipSeeds([1, 2])) {
    it(`a crashed member is dead in every view within the suspicion bound (seed ${seed})`, () => {
      console.log(`gossip seed=${seed} (replay: GOSSIP_SEED=${seed})`);
      const sim = new GossipSim({ seed });
      sim.grow(N);
      withSeed(seed, sim, () => {
        const victim = `n${1 + (seed % (N - 1))}`;
        const killedAt = sim.now;
        let firstSuspect = Number.NaN;
        sim.onEvent((_, e) => {
          if (e.member.name === victim && e.type === "suspect" && Number.isNaN(firstSuspect))
            firstSuspect = e.at;
        });
        sim.kill(victim);
        const everyone = () => sim.running().every((o) => sim.statusOf(o, victim) === "dead");
        // SWIM: first detection after e/(e-1) probe periods on average; 10 periods miss with p ≈ e^-10.
        expect(sim.runUntil(() => !Number.isNaN(firstSuspect), 10 * cfg.probeInterval)).toBe(true);
        // Lifeguard: every member that heard the suspicion times it out by max, or hears `dead` first.
        const bound = firstSuspect - sim.now + MAX + SPREAD;
        expect(sim.runUntil(everyone, bound)).toBe(true);
        const took = sim.now - killedAt;
        console.log(
          `  dead everywhere ${took} ms after the kill (first suspicion +${firstSuspect - killedAt} ms;` +
            ` suspicion min ${MIN} ms, max ${MAX} ms; bound ${firstSuspect - killedAt + MAX + SPREAD} ms)`,
        );
        // Nobody else was declared dead on the way.
        const wrong = sim.log.filter((l) => l.event.type === "failed" && l.event.member.name !== victim);
        expect(wrong.map((l) => `${l.observer}: ${l.event.member.name}`)).toEqual([]);
      });
    });
  }

  for (const seed of gossipSeeds([3, 4])) {
    it(`a member paused for less than its suspicion timeout is never declared dead (seed ${seed})`, () => {
      console.log(`gossip seed=${seed} (replay: GOSSIP_SEED=${seed})`);
      const sim = new GossipSim({ seed });
      sim.grow(N);
      withSeed(seed, sim, () => {
        const sleeper = `n${1 + (seed % (N - 1))}`;
        const incBefore = sim.core(sleeper).incarnation;
        // Suspected about one probe period in, dead no sooner than MIN after that: pause well inside.
        const pause = MIN - 2 * cfg.probeInterval;
        sim.pause(sleeper, pause);
        let suspected = 0;
        sim.onEvent((_, e) => {
          if (e.member.name === sleeper && e.type === "suspect") suspected++;
        });
        sim.run(pause + MAX + SPREAD);
        const failed = sim.log.filter((l) => l.event.type === "failed");
        expect(failed.map((l) => `${l.observer}: ${l.event.member.name}`)).toEqual([]);
        expect(sim.converged()).toBe(true);
        console.log(
          `  paused ${pause} ms: suspected by ${suspected} members, refuted at incarnation` +
            ` ${sim.core(sleeper).incarnation} (was ${incBefore}); no member declared dead`,
        );
        expect(suspected).toBeGreaterThan(0);
        expect(sim.core(sleeper).incarnation).toBeGreaterThan(incBefore);
      });
    });
  }
});
