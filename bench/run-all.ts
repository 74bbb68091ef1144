/**
 * Runs every benchmark in bench/ one after the other with short settings and prints their figures,
 * then one table of every bench's headline figures (figure, ours, baseline, ratio, target) and the
 * same rows as JSON. `npm run bench` (add `-- --full` for each bench's own defaults, `-- --json FILE`
 * for where the JSON goes). Each bench is a separate process, so one that fails is reported and the
 * rest still run.
 *
 * Run: node --import tsx bench/run-all.ts [--full] [--json FILE] [--only a.ts,b.ts]
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type FigureRow, formatTable } from "./report";

const argv = process.argv.slice(2);
if (argv.includes("--help") || argv.includes("-h")) {
  process.stdout.write(
    "Usage: node --import tsx bench/run-all.ts [--full] [--json FILE] [--only a.ts,b.ts]\n" +
      "  --full   each bench's own defaults (about an hour) instead of the quick settings (about 15 minutes)\n" +
      "  --json   where the summary rows go (default test-output/bench-results.json)\n" +
      "  --only   run only these benches\n",
  );
  process.exit(0);
}
const full = argv.includes("--full");
const flag = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const jsonFile = resolve(flag("--json") ?? "test-output/bench-results.json");
const only = flag("--only")?.split(",");

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
  { file: "runner-package.ts", quick: ["10"], what: "installed dkron-runner --help beside node -e 0" },
  {
    file: "runners-at-scale.ts",
    quick: ["500", "100"],
    what: "dispatch latency, leader RSS and heartbeat CPU with N runners connected beside 10",
  },
  { file: "cluster-throughput.ts", quick: ["5", "64"], what: "3-node commit throughput through the API" },
  {
    file: "executions-throughput.ts",
    quick: ["1000", "15"],
    what: "http executions per second through a 3-node cluster (1,000 jobs @every 1s)",
  },
  { file: "cluster-failover.ts", quick: ["20", "both"], what: "3-node failover after SIGKILL of the leader" },
];

const reportDir = mkdtempSync(join(tmpdir(), "dkron-bench-"));
const reportFile = join(reportDir, "figures.jsonl");
writeFileSync(reportFile, "");
const chosen = only ? BENCHES.filter((b) => only.includes(b.file)) : BENCHES;
let failed = 0;
for (const b of chosen) {
  const args = full ? [] : b.quick;
  process.stdout.write(`\n=== bench/${b.file} ${args.join(" ")} — ${b.what}\n`);
  const t = performance.now();
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", fileURLToPath(new URL(b.file, import.meta.url)), ...args],
    { stdio: "inherit", env: { ...process.env, BENCH_REPORT: reportFile } },
  );
  const secs = ((performance.now() - t) / 1000).toFixed(0);
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`!!! bench/${b.file} exited with ${r.status ?? r.signal} after ${secs} s\n`);
  } else process.stdout.write(`--- bench/${b.file} done in ${secs} s\n`);
}
const rows = readFileSync(reportFile, "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l) as FigureRow);
rmSync(reportDir, { recursive: true, force: true });
process.stdout.write(`\n=== every bench's figures (${full ? "full" : "quick"} settings, one run)\n`);
process.stdout.write(`${formatTable(rows, true)}\n`);
const missed = rows.filter((r) => r.met === false).length;
process.stdout.write(
  `\n${chosen.length - failed} of ${chosen.length} benches ran to the end; ${rows.length} figures, ${missed} below target\n`,
);
mkdirSync(dirname(jsonFile), { recursive: true });
writeFileSync(
  jsonFile,
  `${JSON.stringify({ at: new Date().toISOString(), settings: full ? "full" : "quick", figures: rows }, null, 2)}\n`,
);
process.stdout.write(`figures written to ${jsonFile}\n`);
process.exitCode = failed ? 1 : 0;
