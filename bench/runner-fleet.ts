/**
 * Many runners in one process, for bench/runners-at-scale.ts: `--count` real RunnerAgents, each with
 * its own WebSocket to the leader, its own name (`r<g>`, where runner j of process p of P is the
 * fleet's runner g = p + P × j) and tags (`shard=s<g mod shards>`, `fleet=bench`), and the real
 * executors. A line `{"grow":N}` on stdin connects more until the process holds N. Every run is timed
 * where the runner sees it: `recv` when the agent hands it to the executor, `started` when the
 * executor says it really started (process spawned, request being sent).
 *
 * Prints JSON lines: `{"connected":n,"ms":t,"rss":bytes}` each time every agent has its welcome, and
 * `{"job":..,"exec":..,"runner":..,"recv":t,"started":t}` per run (wall clock, ms). Exits on SIGTERM.
 *
 * Run: node --import tsx bench/runner-fleet.ts --url ws://H:P/_runner/ws --token T --count N
 *        [--proc I --procs P] [--shards K] [--batch B]
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { createExecutors, RunnerAgent } from "../runner";
import type { Executor } from "../runner/executors";
import { createLogger, systemClock } from "../shared";

const USAGE =
  "Usage: node --import tsx bench/runner-fleet.ts --url ws://H:P/_runner/ws --token T --count N [--proc I --procs P] [--shards K] [--batch B]";
const { values } = parseArgs({
  options: {
    url: { type: "string" },
    token: { type: "string", default: "" },
    count: { type: "string", default: "10" },
    proc: { type: "string", default: "0" },
    procs: { type: "string", default: "1" },
    shards: { type: "string", default: "10" },
    batch: { type: "string", default: "50" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const int = (name: string, raw: string): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`--${name}: expected a whole number, got "${raw}"\n${USAGE}\n`);
    process.exit(2);
  }
  return n;
};
const proc = int("proc", values.proc);
const procs = Math.max(1, int("procs", values.procs));
const shards = Math.max(1, int("shards", values.shards));
const batch = Math.max(1, int("batch", values.batch));
if (!values.url) {
  process.stderr.write(`--url: required\n${USAGE}\n`);
  process.exit(2);
}
const url = values.url;

/** Wall clock in ms with sub-ms precision, comparable across processes on one host. */
const wall = () => performance.timeOrigin + performance.now();
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const logger = createLogger({ level: "error", write: (l) => process.stderr.write(`${l}\n`) });
const real = createExecutors({ clock: systemClock, spawn });

/** The real executors, each run timed on receipt and on its real start. */
function timed(runner: string): Map<string, Executor> {
  return new Map(
    [...real].map(([name, e]) => [
      name,
      {
        name,
        execute(req) {
          const recv = wall();
          return e.execute({
            ...req,
            onStarted: () => {
              say({
                job: req.identity.jobName,
                exec: req.identity.executionId,
                runner,
                recv,
                started: wall(),
              });
              req.onStarted?.();
            },
          });
        },
      } satisfies Executor,
    ]),
  );
}

const agents: RunnerAgent[] = [];

/** Connects runners until this process holds `total`, a wave of `batch` at a time, then reports. */
async function grow(total: number): Promise<void> {
  const t0 = performance.now();
  while (agents.length < total) {
    const wave: Promise<void>[] = [];
    for (let j = agents.length; j < Math.min(total, agents.length + batch); j++) {
      // Runner j of process p is the fleet's runner p + procs × j: names and shards interleave.
      const g = proc + procs * j;
      const name = `r${g}`;
      const agent = new RunnerAgent({
        url,
        token: values.token,
        name,
        tags: { shard: `s${g % shards}`, fleet: "bench" },
        executors: timed(name),
        clock: systemClock,
        logger,
        webSocket: (u, o) => new WebSocket(u, o),
        random: Math.random,
      });
      agents.push(agent);
      wave.push(agent.start());
    }
    // A wave at a time: a storm of thousands of handshakes at once measures the kernel's accept queue.
    await Promise.all(wave);
  }
  say({ connected: agents.length, ms: performance.now() - t0, rss: process.memoryUsage().rss });
}

await grow(int("count", values.count));
// `{"grow":N}` on stdin: connect more runners until this process holds N.
createInterface({ input: process.stdin }).on("line", (line) => {
  const { grow: total } = JSON.parse(line) as { grow: number };
  void grow(total);
});
process.on("SIGTERM", () => process.exit(0));
