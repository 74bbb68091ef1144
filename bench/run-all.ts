/**
 * Runs every benchmark in bench/ one after the other with short settings and prints their figures.
 * `npm run bench` (add `-- --full` for each bench's own defaults). Each bench is a separate process,
 * so one that fails is reported and the rest still run.
 *
 * Run: node --import tsx bench/run-all.ts [--full]
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const full = process.argv.includes("--full");

/** Each bench with the arguments of a quick pass (about ten minutes in all) and of a full one. */
const BENCHES: { file: string; quick: string[]; what: string }[] = [
  { file: "fsm-apply.ts", quick: ["2000"], what: "state-machine apply cost" },
  { file: "raft-core.ts", quick: [], what: "Raft core throughput (memory and SQLite log stores)" },
  { file: "raft-election.ts", quick: ["500"], what: "simulated elections after a leader crash" },
  {
    file: "gossip.ts",
    quick: ["20", "5"],
    what: "gossip failure detection and dissemination, 100 and 1,000 members",
  },
  { file: "schedule-next.ts", quick: ["5000"], what: "next fire time per schedule, beside cron-parser" },
  { file: "fire-delay.ts", quick: ["10", "5"], what: "scheduled time to job process running" },
  {
    file: "burst.ts",
    quick: ["1000", "200", "100", "5"],
    what: "bursts: 1,000 http / 200 shell jobs due at once, 100 jobs @every 1s, beside bare baselines",
  },
  {
    file: "jobs-at-scale.ts",
    quick: ["20000", "1", "20"],
    what: "jobs at scale: creates, list queries, RSS, restart",
  },
  {
    file: "ui-pages.ts",
    quick: ["10000", "20"],
    what: "dashboard pages at N jobs beside the JSON API and bare Hono",
  },
  {
    file: "runners-at-scale.ts",
    quick: ["500", "100"],
    what: "dispatch latency, leader RSS and heartbeat CPU with N runners connected beside 10",
  },
  { file: "cluster-throughput.ts", quick: ["5", "64"], what: "3-node commit throughput through the API" },
  { file: "cluster-failover.ts", quick: ["20", "both"], what: "3-node failover after SIGKILL of the leader" },
];

let failed = 0;
for (const b of BENCHES) {
  const args = full ? [] : b.quick;
  process.stdout.write(`\n=== bench/${b.file} ${args.join(" ")} — ${b.what}\n`);
  const t = performance.now();
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", fileURLToPath(new URL(b.file, import.meta.url)), ...args],
    { stdio: "inherit" },
  );
  const secs = ((performance.now() - t) / 1000).toFixed(0);
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`!!! bench/${b.file} exited with ${r.status ?? r.signal} after ${secs} s\n`);
  } else process.stdout.write(`--- bench/${b.file} done in ${secs} s\n`);
}
process.stdout.write(`\n${BENCHES.length - failed} of ${BENCHES.length} benches ran to the end\n`);
process.exitCode = failed ? 1 : 0;
