/**
 * Many runners in one process, for bench/runners-at-scale.ts: `--count` real RunnerAgents, each with
 * its own WebSocket to the leader, its own name (`<prefix>-<i>`) and tags (`shard=s<i mod shards>`,
 * `fleet=<prefix>`), and the real executors. Every run is timed where the runner sees it: `recv` when
 * the agent hands it to the executor, `started` when the executor says the process is spawned.
 *
 * Prints JSON lines: `{"connected":n,"ms":t,"rss":bytes}` once every agent has its welcome, then
 * `{"job":..,"exec":..,"runner":..,"recv":t,"started":t}` per run (wall clock, ms). Exits on SIGTERM.
 *
 * Run: node --import tsx bench/runner-fleet.ts --url ws://H:P/_runner/ws --token T --prefix P
 *        --count N [--first I] [--shards K] [--batch B]
 */
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { createExecutors, RunnerAgent } from "../runner";
import type { Executor } from "../runner/executors";
import { createLogger, systemClock } from "../shared";

const USAGE =
  "Usage: node --import tsx bench/runner-fleet.ts --url ws://H:P/_runner/ws --token T --prefix P --count N [--first I] [--shards K] [--batch B]";
const { values } = parseArgs({
  options: {
    url: { type: "string" },
    token: { type: "string", default: "" },
    prefix: { type: "string", default: "r" },
    count: { type: "string", default: "10" },
    first: { type: "string", default: "0" },
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
const count = int("count", values.count);
const first = int("first", values.first);
const shards = Math.max(1, int("shards", values.shards));
const batch = Math.max(1, int("batch", values.batch));
if (!values.url) {
  process.stderr.write(`--url: required\n${USAGE}\n`);
  process.exit(2);
}

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
const t0 = performance.now();
for (let i = first; i < first + count; i += batch) {
  const wave: Promise<void>[] = [];
  for (let j = i; j < Math.min(first + count, i + batch); j++) {
    const name = `${values.prefix}-${j}`;
    const agent = new RunnerAgent({
      url: values.url,
      token: values.token,
      name,
      tags: { shard: `s${j % shards}`, fleet: values.prefix },
      executors: timed(name),
      clock: systemClock,
      logger,
      webSocket: (url, o) => new WebSocket(url, o),
      random: Math.random,
    });
    agents.push(agent);
    wave.push(agent.start());
  }
  // A wave at a time: a storm of thousands of handshakes at once measures the kernel's accept queue.
  await Promise.all(wave);
}
say({ connected: agents.length, ms: performance.now() - t0, rss: process.memoryUsage().rss });
process.on("SIGTERM", () => process.exit(0));
