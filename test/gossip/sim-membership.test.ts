import { describe, expect, it } from "vitest";
import { resolveGossipConfig, retransmitLimit, suspicionMaxMs } from "../../runner/gossip";
import { GossipSim, gossipSeeds } from "../helpers/gossip-sim";

// 100 members, 1% loss, memberlist's default timings, on virtual time. Replay a seed: GOSSIP_SEED=<seed>.
// The join and update cases run every datagram through the zod wire format (wire: true).
const N = 100;
const cfg = resolveGossipConfig();
const SPREAD = retransmitLimit(cfg, N) * cfg.gossipInterval;

function traced(seed: number, sim: GossipSim, fn: () => void): void {
  console.log(`gossip seed=${seed} (replay: GOSSIP_SEED=${seed})`);
  try {
    fn();
  } catch (e) {
    console.error(`gossip seed=${seed} failed (replay: GOSSIP_SEED=${seed})\n${sim.trace.format()}`);
    throw e;
  }
}

const failures = (sim: GossipSim, who?: string) =>
  sim.log
    .filter((l) => l.event.type === "failed" && (who === undefined || l.event.member.name === who))
    .map((l) => `${l.observer}: ${l.event.member.name}`);

describe("gossip: 100 members, 1% loss", () => {
  for (const seed of gossipSeeds([11])) {
    it(`a partition into two halves heals back to one view with everyone alive (seed ${seed})`, () => {
      const sim = new GossipSim({ seed });
      sim.grow(N);
      traced(seed, sim, () => {
        const names = sim.names();
        const a = names.slice(0, N / 2);
        const b = names.slice(N / 2);
        sim.net.partition([a, b]);
        // Long enough for each half to time out every suspicion of the other: the max at n = 100.
        const cut = suspicionMaxMs(cfg, N) + 10 * cfg.probeInterval;
        sim.run(cut);
        const split = a.every((x) =>
          b.every((y) => sim.statusOf(x, y) === "dead" && sim.statusOf(y, x) === "dead"),
        );
        expect(split).toBe(true);
        sim.net.heal();
        const healedAt = sim.now;
        // Dead members are no longer probed; the halves find each other through the reconnect sync
        // with a random dead member (Serf's reconnect), refute, and re-spread.
        const bound = 4 * cfg.reconnectInterval + suspicionMaxMs(cfg, N);
        expect(sim.runUntil(() => sim.converged(), bound, 250)).toBe(true);
        console.log(
          `  cut ${cut} ms; one view again ${sim.now - healedAt} ms after the heal (bound ${bound} ms)`,
        );
      });
    });
  }

  for (const seed of gossipSeeds([12])) {
    it(`a graceful leave shows as left everywhere, and is not a failure (seed ${seed})`, () => {
      const sim = new GossipSim({ seed });
      sim.grow(N);
      traced(seed, sim, () => {
        const leaver = "n17";
        const start = sim.now;
        sim.act(leaver, (m, now) => m.leave(now));
        sim.run(2 * cfg.gossipInterval);
        sim.kill(leaver);
        const others = () => sim.running().filter((x) => x !== leaver);
        // Infection-style spread: the leave reaches everyone while it is still being retransmitted.
        expect(
          sim.runUntil(() => others().every((o) => sim.statusOf(o, leaver) === "left"), SPREAD, 10),
        ).toBe(true);
        console.log(`  left everywhere ${sim.now - start} ms after leave() (bound ${SPREAD} ms)`);
        sim.run(suspicionMaxMs(cfg, N));
        expect(others().every((o) => sim.statusOf(o, leaver) === "left")).toBe(true);
        expect(failures(sim)).toEqual([]);
      });
    });
  }

  for (const seed of gossipSeeds([13])) {
    it(`a falsely suspected member refutes and ends alive at a higher incarnation (seed ${seed})`, () => {
      const sim = new GossipSim({ seed });
      sim.grow(N);
      traced(seed, sim, () => {
        const target = "n33";
        const inc = sim.core(target).incarnation;
        // n5 hears from n6 that n33 is suspect: nothing is wrong with n33.
        sim.act("n5", (m, now) =>
          m.receive(GossipSim.addr("n6"), [{ t: "suspect", node: target, inc, from: "n6" }], now),
        );
        expect(sim.statusOf("n5", target)).toBe("suspect");
        const refuted = () =>
          sim.running().every((o) => {
            const v = sim.core(o).member(target);
            return v?.status === "alive" && v.incarnation > inc;
          });
        expect(sim.runUntil(refuted, suspicionMaxMs(cfg, N))).toBe(true);
        console.log(
          `  refuted everywhere after ${sim.now} ms at incarnation ${sim.core(target).incarnation}`,
        );
        sim.run(suspicionMaxMs(cfg, N));
        expect(failures(sim)).toEqual([]);
      });
    });
  }

  for (const seed of gossipSeeds([14])) {
    it(`a new member that knows one address learns all, and all learn it (seed ${seed})`, () => {
      const sim = new GossipSim({ seed, wire: true });
      sim.grow(N);
      traced(seed, sim, () => {
        const start = sim.now;
        sim.add("late", ["n50"]);
        // Its join is a push-pull with n50 (retried until n50 answers); a chunk lost on the way is
        // repaired by the next periodic sync, so "a few sync rounds" is the bound.
        const knowsAll = () =>
          sim
            .core("late")
            .members()
            .filter((v) => v.status === "alive").length ===
          N + 1;
        expect(sim.runUntil(knowsAll, 3 * cfg.pushPullInterval, 10)).toBe(true);
        const learned = sim.now - start;
        expect(sim.runUntil(() => sim.converged(), 3 * cfg.pushPullInterval, 10)).toBe(true);
        console.log(`  the newcomer knew all ${N} in ${learned} ms; all knew it in ${sim.now - start} ms`);
      });
    });
  }

  for (const seed of gossipSeeds([15])) {
    it(`a tag update reaches every member (seed ${seed})`, () => {
      const sim = new GossipSim({ seed, wire: true });
      sim.grow(N);
      traced(seed, sim, () => {
        const start = sim.now;
        sim.act("n70", (m, now) =>
          m.setMeta({ ...m.member("n70")!.meta, tags: { node: "n70", zone: "b" } }, now),
        );
        const seen = () => sim.running().every((o) => sim.core(o).member("n70")?.meta.tags.zone === "b");
        expect(sim.runUntil(seen, SPREAD, 10)).toBe(true);
        console.log(`  update everywhere in ${sim.now - start} ms (bound ${SPREAD} ms)`);
      });
    });
  }
});
