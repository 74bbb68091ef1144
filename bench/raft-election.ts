/**
 * Leader failover in the Raft core, on the seeded simulator (test/helpers/raft-cluster.ts): per seed
 * a cluster elects a leader, runs for a random fraction of a second, the leader is killed, and we
 * measure the virtual time until a survivor leads and how many terms that took (2 or more means a
 * split vote or a failed round). Each profile runs twice: with links that reorder messages (the
 * simulator's default) and with in-order links, as the production transport's one stream per peer
 * gives. Election timeouts are [10, 20) ticks with a heartbeat every tick, as in control/node.ts; at
 * the "fast" profile's 30 ms per tick the 1 s failover target is 33.3 ticks. Every figure is
 * deterministic for a given seed count, so runs before and after a change compare exactly. Prints
 * figures; asserts nothing.
 * Run: node --import tsx bench/raft-election.ts [seeds = 2000]
 */
import { seededRandom } from "../control/raft/random";
import { RaftCluster, TICK } from "../test/helpers/raft-cluster";
import type { NetWeather } from "../test/helpers/sim-network";
import { benchArgs } from "./args";
import { type Figure, reportFigures } from "./report";
import { percentile } from "./stats";

const SEEDS = benchArgs("Usage: node --import tsx bench/raft-election.ts [seeds = 2000]").int(
  0,
  "seeds",
  2000,
);
const ELECTION_TICKS = 10;
const MS_PER_TICK = 30;
const TARGET_TICKS = 1000 / MS_PER_TICK;

interface Profile {
  label: string;
  voters: number;
  /** One-way message delay range in virtual units (TICK = 10 units = 30 ms in the fast profile). */
  weather: NetWeather;
  diskMaxDelay: number;
}

const PROFILES: Profile[] = [
  {
    label: "3 nodes, loopback (msg 3-9 ms, fsync 0-6 ms)",
    voters: 3,
    weather: { dropRate: 0, dupRate: 0, minDelay: 1, maxDelay: 3 },
    diskMaxDelay: 2,
  },
  {
    label: "3 nodes, slow (msg 3-30 ms, fsync 0-24 ms)",
    voters: 3,
    weather: { dropRate: 0, dupRate: 0, minDelay: 1, maxDelay: 10 },
    diskMaxDelay: 8,
  },
  {
    label: "5 nodes, loopback (msg 3-9 ms, fsync 0-6 ms)",
    voters: 5,
    weather: { dropRate: 0, dupRate: 0, minDelay: 1, maxDelay: 3 },
    diskMaxDelay: 2,
  },
  {
    label: "5 nodes, slow (msg 3-30 ms, fsync 0-24 ms)",
    voters: 5,
    weather: { dropRate: 0, dupRate: 0, minDelay: 1, maxDelay: 10 },
    diskMaxDelay: 8,
  },
];

interface Trial {
  /** Ticks from the kill to a survivor leading; null if none did within the bound. */
  ticks: number | null;
  terms: number;
}

function trial(p: Profile, fifo: boolean, seed: number): Trial {
  const c = new RaftCluster({
    seed,
    fifo,
    voters: p.voters,
    tunables: { electionTicks: ELECTION_TICKS, heartbeatTicks: 1 },
    weather: p.weather,
    diskMaxDelay: p.diskMaxDelay,
  });
  if (!c.runUntilTrue(() => c.leader() !== undefined, 50 * ELECTION_TICKS)) return { ticks: null, terms: 0 };
  // Let the first election settle, then kill at a random phase of the heartbeat cycle.
  c.runTicks(ELECTION_TICKS + seededRandom(seed).int(2 * ELECTION_TICKS));
  c.runUntil(c.now + seededRandom(seed ^ 0x9e3779b9).int(TICK));
  const old = c.leader();
  if (!old?.raft) return { ticks: null, terms: 0 };
  const oldTerm = old.raft.term;
  const killedAt = c.now;
  c.crash(old.id);
  if (!c.runUntilEvent(() => c.leader() !== undefined, 50 * ELECTION_TICKS)) return { ticks: null, terms: 0 };
  return { ticks: (c.now - killedAt) / TICK, terms: (c.leader()?.raft?.term ?? oldTerm) - oldTerm };
}

function fmt(n: number): string {
  return n.toFixed(1).padStart(5);
}

function main(): void {
  console.log(
    `raft election bench: ${SEEDS} seeds per profile, election timeouts [${ELECTION_TICKS}, ${2 * ELECTION_TICKS}) ticks, heartbeat 1 tick; ms at ${MS_PER_TICK} ms/tick`,
  );
  const figures: Figure[] = [];
  for (const [p, fifo] of PROFILES.flatMap((p) => [[p, false] as const, [p, true] as const])) {
    const trials = Array.from({ length: SEEDS }, (_, i) => trial(p, fifo, i + 1));
    const ok = trials.flatMap((t) => (t.ticks === null ? [] : [t.ticks]));
    const failed = trials.length - ok.length;
    const multi = trials.filter((t) => t.terms > 1).length;
    const over = ok.filter((t) => t >= TARGET_TICKS).length;
    const ms = (t: number) => String(Math.round(t * MS_PER_TICK)).padStart(4);
    const [p50, p90, p99, max] = [50, 90, 99, 100].map((q) => percentile(ok, q)) as [
      number,
      number,
      number,
      number,
    ];
    console.log(`${p.label}, ${fifo ? "in-order links (one stream per peer)" : "links reorder"}`);
    console.log(
      `  kill → leader, ticks: p50=${fmt(p50)} p90=${fmt(p90)} p99=${fmt(p99)} max=${fmt(max)}   (ms: p50=${ms(p50)} p99=${ms(p99)} max=${ms(max)})`,
    );
    console.log(
      `  elections taking 2+ terms: ${multi}/${trials.length} (${((100 * multi) / trials.length).toFixed(2)}%)   ≥ 1 s: ${over}   no leader: ${failed}`,
    );
    figures.push({
      figure: `simulated leader kill → new leader p99, ${p.label}, ${fifo ? "in-order links" : "links reorder"}`,
      ours: failed ? Number.POSITIVE_INFINITY : p99 * MS_PER_TICK,
      unit: "ms",
      target: { max: TARGET_TICKS * MS_PER_TICK },
      reproduce: `node --import tsx bench/raft-election.ts ${SEEDS}`,
    });
  }
  reportFigures("raft-election", figures);
}

main();
