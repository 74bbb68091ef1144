/**
 * Gossip on the seeded simulator (test/helpers/gossip-sim.ts; memberlist's default timings, 1% loss,
 * 1-5 ms one-way delay): for pools of 100 and 1,000 members, per seed, a random member is killed and
 * we measure the virtual time until the first member suspects it and until every survivor has it
 * dead; then another member changes a tag and we measure the time until every member has the new
 * tag. Printed beside SWIM's expectations (first detection after e/(e−1) probe periods on average;
 * infection-style spread in O(log N) rounds, shown as log2(N) × the gossip interval) and the bounds
 * memberlist's defaults give (suspicion min/max). Deterministic per seed count. Asserts nothing.
 * Run: node --import tsx bench/gossip.ts [seeds for 100 = 50] [seeds for 1000 = 20]
 */
import { resolveGossipConfig, retransmitLimit, suspicionMaxMs, suspicionMinMs } from "../runner/gossip";
import { GossipSim, simMeta } from "../test/helpers/gossip-sim";
import { benchArgs } from "./args";
import { type Figure, reportFigures } from "./report";
import { percentile } from "./stats";

const usage = "Usage: node --import tsx bench/gossip.ts [seeds for 100 members = 50] [seeds for 1000 = 20]";
const args = benchArgs(usage);
const RUNS: [number, number][] = [
  [100, args.int(0, "seeds for 100", 50)],
  [1000, args.int(1, "seeds for 1000", 20)],
];
const cfg = resolveGossipConfig();

interface Trial {
  firstSuspect: number;
  allDead: number;
  update: number;
  packetsPerMemberSecond: number;
}

function trial(n: number, seed: number): Trial | null {
  const sim = new GossipSim({ seed });
  sim.bootstrap(n);
  const victim = `n${1 + (seed % (n - 1))}`;
  let first = Number.NaN;
  sim.onEvent((_, e) => {
    if (e.member.name === victim && e.type === "suspect" && Number.isNaN(first)) first = e.at;
  });
  const p0 = sim.packets;
  const t0 = sim.now;
  sim.kill(victim);
  const bound =
    10 * cfg.probeInterval + suspicionMaxMs(cfg, n) + retransmitLimit(cfg, n) * cfg.gossipInterval;
  const ok = sim.runUntil(() => sim.running().every((o) => sim.statusOf(o, victim) === "dead"), bound, 50);
  if (!ok) return null;
  const allDead = sim.now - t0;
  const rate = (sim.packets - p0) / (n - 1) / (allDead / 1000);
  const pick = (seed * 7 + 3) % n;
  const changer = `n${`n${pick}` === victim ? 0 : pick}`;
  const t1 = sim.now;
  sim.act(changer, (m, now) => m.setMeta(simMeta(changer, { zone: "b" }), now));
  const seen = () => sim.running().every((o) => sim.core(o).member(changer)?.meta.tags.zone === "b");
  if (!sim.runUntil(seen, 60_000, 10)) return null;
  return { firstSuspect: first - t0, allDead, update: sim.now - t1, packetsPerMemberSecond: rate };
}

const f = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const figures: Figure[] = [];
for (const [n, seeds] of RUNS) {
  const started = performance.now();
  const trials: Trial[] = [];
  let failed = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const t = trial(n, seed);
    if (t) trials.push(t);
    else failed++;
  }
  const col = (k: keyof Trial) => trials.map((t) => t[k]);
  const mean = (k: keyof Trial) => col(k).reduce((a, b) => a + b, 0) / col(k).length;
  const p = (k: keyof Trial) =>
    `mean ${f(mean(k))}  p50 ${f(percentile(col(k), 50))}  p99 ${f(percentile(col(k), 99))}`;
  const min = suspicionMinMs(cfg, n);
  const max = suspicionMaxMs(cfg, n);
  const swimDetect = (Math.E / (Math.E - 1)) * cfg.probeInterval;
  const swimSpread = Math.log2(n) * cfg.gossipInterval;
  console.log(
    `\n${n} members, 1% loss, memberlist defaults — ${trials.length} seeds (${failed} missed the bound), ${((performance.now() - started) / 1000).toFixed(1)} s real`,
  );
  console.log(
    `  first suspicion after the kill   ${p("firstSuspect")}   SWIM: e/(e−1) protocol periods of ${f(cfg.probeInterval)} = ${f(swimDetect)} (mean)`,
  );
  console.log(
    `  dead in every view               ${p("allDead")}   memberlist: detection + suspicion min ${f(min)} (confirmed) … max ${f(max)} (unconfirmed)`,
  );
  console.log(
    `  tag update in every view         ${p("update")}   SWIM: log2(${n}) × ${cfg.gossipInterval} ms = ${f(swimSpread)}; retransmits ${retransmitLimit(cfg, n)} × ${cfg.gossipInterval} ms = ${f(retransmitLimit(cfg, n) * cfg.gossipInterval)} queue life`,
  );
  console.log(
    `  datagrams per member per second during detection: p50 ${percentile(col("packetsPerMemberSecond"), 50).toFixed(1)}`,
  );
  const repro = "node --import tsx bench/gossip.ts";
  figures.push(
    {
      figure: `gossip ${n} members, 1% loss: first suspicion (mean)`,
      ours: mean("firstSuspect") / 1000,
      unit: "s",
      baseline: swimDetect / 1000,
      baselineWhat: "SWIM e/(e−1) periods",
      reproduce: repro,
    },
    {
      figure: `gossip ${n} members, 1% loss: dead in every view (p99)`,
      ours: percentile(col("allDead"), 99) / 1000,
      unit: "s",
      target: { max: max / 1000 + (10 * cfg.probeInterval) / 1000 },
      reproduce: repro,
    },
    {
      figure: `gossip ${n} members, 1% loss: update in every view (mean)`,
      ours: mean("update") / 1000,
      unit: "s",
      baseline: swimSpread / 1000,
      baselineWhat: "SWIM log2 N rounds",
      reproduce: repro,
    },
  );
}
reportFigures("gossip", figures);
