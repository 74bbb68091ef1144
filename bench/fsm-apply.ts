/**
 * Cost of one state-machine apply (control/fsm/apply.ts) on a state db in a temp dir, opened as the
 * node opens it (WAL, synchronous=FULL), one command per transaction, no Raft and no network:
 *   1. job.put of N fresh jobs, every 4th a child of the one before (the parent walk),
 *   2. job.put updates of the same N jobs (description and, every other one, schedule changed),
 *   3. execution.start of one manual run per job, then 4. execution.finish of each.
 * Prints wall time and CPU time (user, system) per apply, after a short unprinted warm-up pass: the
 * user CPU figure is what a leader spends building and running the SQL; wall adds the fsync.
 * Run: node --import tsx bench/fsm-apply.ts [N]
 */
import { join } from "node:path";
import { apply } from "../control/fsm/apply";
import type { Command } from "../control/fsm/commands";
import { openStateDb, type StateDb } from "../control/store/db";
import { finishExecution, jobSpec, MINUTE, startExecution, T0 } from "../test/helpers/builders";
import { tempDir } from "../test/helpers/tmp";
import { benchArgs } from "./args";
import { hostLine } from "./host";
import { type Figure, reportFigures } from "./report";

const N = benchArgs("Usage: node --import tsx bench/fsm-apply.ts [N = 2000]").int(0, "N", 2000);

const figures: Figure[] = [];

function phase(s: StateDb, label: string, first: number, cmds: Command[], print: boolean): number {
  const cpu = process.cpuUsage();
  const t = performance.now();
  for (let i = 0; i < cmds.length; i++) {
    const r = apply(s, first + i, cmds[i]!);
    if (!r.ok) throw new Error(`${label} #${i}: ${r.error.code} ${r.error.message}`);
  }
  const wall = ((performance.now() - t) * 1000) / cmds.length;
  const used = process.cpuUsage(cpu);
  if (!print) return first + cmds.length;
  figures.push({
    figure: `apply ${label}`,
    ours: wall,
    unit: "µs",
    reproduce: `node --import tsx bench/fsm-apply.ts ${N}`,
  });
  const f = (n: number) => n.toFixed(1).padStart(7);
  console.log(
    `${label.padEnd(28)} n=${String(cmds.length).padStart(5)}  wall=${f(wall)} µs/apply  user=${f(used.user / cmds.length)} µs/apply  sys=${f(used.system / cmds.length)} µs/apply`,
  );
  return first + cmds.length;
}

const name = (i: number) => `bench-job-${String(i).padStart(6, "0")}`;
const parent = (i: number) => (i % 4 === 3 ? name(i - 1) : "");

function puts(n: number, update: boolean): Command[] {
  return Array.from({ length: n }, (_, i) => ({
    type: "job.put",
    at: update ? T0 + MINUTE : T0,
    job: jobSpec({
      name: name(i),
      parent_job: parent(i),
      displayname: update ? "updated" : "",
      schedule: update && i % 2 === 0 ? "@every 2m" : "@every 1m",
    }),
  }));
}

/** The four phases on a fresh state db in `dir`. */
function run(dir: string, file: string, n: number, print: boolean): void {
  const s = openStateDb(join(dir, file));
  try {
    let index = 1;
    index = phase(s, "job.put (new)", index, puts(n, false), print);
    index = phase(s, "job.put (update)", index, puts(n, true), print);
    index = phase(
      s,
      "execution.start (manual)",
      index,
      Array.from({ length: n }, (_, i) =>
        startExecution({ job: name(i), group: 1, executions: [{ id: `${name(i)}-1`, node: "r1" }] }),
      ),
      print,
    );
    phase(
      s,
      "execution.finish",
      index,
      Array.from({ length: n }, (_, i) => finishExecution(`${name(i)}-1`)),
      print,
    );
  } finally {
    s.close();
  }
}

const dir = tempDir("dkron-bench-fsm-");
try {
  console.log(await hostLine(dir.path));
  // A short unprinted pass first, so the JIT has compiled the apply path before the figures.
  run(dir.path, "warmup.db", Math.min(N, 300), false);
  run(dir.path, "state.db", N, true);
  reportFigures("fsm-apply", figures);
} finally {
  dir.cleanup();
}
