/**
 * Runners at scale (issue 11 point 8): one real leader (a `dkron agent` process) and N remote runners
 * (default 2,000: real RunnerAgents, one WebSocket each, from a few child processes of
 * bench/runner-fleet.ts), measured twice in the same run — first with 10 runners connected (the
 * baseline, spread over the same processes), then with all N — on the same workload:
 *
 * - run-now: R http jobs (to a server in this process), each tagged `shard: "sK:1"` (one random
 *   runner of a tenth of the fleet), triggered one at a time every few ms; latency from the POST to
 *   the runner receiving the run and to its executor starting the request;
 * - scheduled: B such jobs `@at T`; lateness of the runner receiving / starting each against T;
 * - idle: the leader's RSS and CPU over a quiet window (what the hub's heartbeats cost: a ping to and
 *   from every runner each heartbeat), from /proc.
 *
 * Prints a table figure | ours (N connected) | baseline (10 connected) | ratio. Writes the rows as JSON to
 * $BENCH_JSON when set. Every process it starts is killed by process group at the end.
 *
 * Run: node --import tsx bench/runners-at-scale.ts [runners = 2000] [runs per case = 200] [processes = 4] [idle seconds = 15]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Agent, request } from "undici";
import { adminTokenOf, startAgent } from "../test/helpers/agent-process";
import { tempDir } from "../test/helpers/tmp";
import { benchArgs } from "./args";
import { hostLine } from "./host";
import { reportFigures } from "./report";
import { percentile } from "./stats";

const args = benchArgs(
  "Usage: node --import tsx bench/runners-at-scale.ts [runners = 2000] [runs per case = 200] [processes = 4] [idle seconds = 15]\n" +
    "One leader, 10 then N runners (WebSocket clients from `processes` child processes): dispatch latency,\n" +
    "leader RSS and heartbeat CPU with N connected beside 10 connected. Writes JSON to $BENCH_JSON when set.",
);
const RUNNERS = args.int(0, "runners", 2000);
const RUNS = args.int(1, "runs per case", 200);
const PROCS = args.int(2, "processes", 4);
const IDLE_S = args.int(3, "idle seconds", 15);
const BASE = 10;
const SHARDS = 10;
const TOKEN = "bench-runner-token";
const HEARTBEAT_MS = 5000;
/** Gap between two run-now triggers: latency, not throughput, is measured. */
const PACE_MS = 20;
if (RUNNERS <= BASE) {
  process.stderr.write(`runners: must be more than the ${BASE} of the baseline, got ${RUNNERS}\n`);
  process.exit(2);
}

const FLEET = fileURLToPath(new URL("runner-fleet.ts", import.meta.url));
const wall = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A run as the runner saw it. */
interface Seen {
  job: string;
  exec: string;
  runner: string;
  recv: number;
  started: number;
}

/** What a fleet process says once all its runners have their welcome. */
interface Connected {
  connected: number;
  ms: number;
  rss: number;
}

/** One fleet process: its runs arrive on `seen`; `grow` connects more runners. */
interface Fleet {
  proc: ChildProcess;
  /** Resolves with the next `connected` report (rejects if the process dies first). */
  next: () => Promise<Connected>;
  grow: (total: number) => Promise<Connected>;
}

const fleets: Fleet[] = [];
/** The leader's process group, for the signal handlers. */
let leaderPid: number | undefined;
const seen = new Map<string, Seen>();
const waiters = new Map<string, () => void>();

/** Runners process p of P holds when the fleet has n: the fleet's runners p, p + P, p + 2P, … below n. */
const share = (n: number, p: number) => Math.floor(n / PROCS) + (p < n % PROCS ? 1 : 0);

function startFleet(url: string, p: number, count: number): Fleet {
  const proc = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      FLEET,
      ...["--url", url, "--token", TOKEN, "--count", String(count)],
      ...["--proc", String(p), "--procs", String(PROCS), "--shards", String(SHARDS)],
    ],
    { stdio: ["pipe", "pipe", "pipe"], detached: true },
  );
  let err = "";
  proc.stderr!.on("data", (d) => {
    err = (err + String(d)).slice(-4000);
  });
  const reports: Connected[] = [];
  const waiting: { resolve: (c: Connected) => void; reject: (e: Error) => void }[] = [];
  let dead: Error | undefined;
  proc.once("exit", (code, sig) => {
    dead = new Error(`fleet process ${p} exited (${code ?? sig}):\n${err}`);
    for (const w of waiting.splice(0)) w.reject(dead);
  });
  createInterface({ input: proc.stdout! }).on("line", (line) => {
    const o = JSON.parse(line) as Partial<Seen> & Partial<Connected>;
    if (o.connected !== undefined) {
      const w = waiting.shift();
      if (w) w.resolve(o as Connected);
      else reports.push(o as Connected);
    } else if (o.job) {
      seen.set(o.job, o as Seen);
      waiters.get(o.job)?.();
    }
  });
  const next = () =>
    reports.length > 0
      ? Promise.resolve(reports.shift()!)
      : dead
        ? Promise.reject(dead)
        : new Promise<Connected>((resolve, reject) => waiting.push({ resolve, reject }));
  const f: Fleet = {
    proc,
    next,
    grow: (total) => {
      const r = next();
      proc.stdin!.write(`${JSON.stringify({ grow: total })}\n`);
      return r;
    },
  };
  fleets.push(f);
  return f;
}

function killGroup(p: ChildProcess): void {
  try {
    process.kill(-(p.pid as number), "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** Resolves once a runner reported the job's run started (or after timeoutMs, unresolved runs count as missing). */
function started(job: string, timeoutMs: number): Promise<void> {
  if (seen.has(job)) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    waiters.set(job, () => {
      clearTimeout(t);
      waiters.delete(job);
      resolve();
    });
  });
}

/** utime + stime of a process in ms (USER_HZ is 100 on Linux). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** Resident set of a process in MB. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? Number.NaN) / 1024;
}

interface Figures {
  runNowRecv: number[];
  runNowStart: number[];
  schedRecv: number[];
  schedStart: number[];
  missing: number;
  rss: number;
  idleCpuMsPerS: number;
  runners: number;
}

async function main() {
  const dir = tempDir("dkron-runners-scale-");
  // What the http jobs call: answers at once, so the runner's side of a run stays small.
  const target = createServer((_req, res) => res.end("ok"));
  target.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
  const targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  const agent = await startAgent([
    ...["--bootstrap-expect", "1", "--data-dir", dir.path, "--node-name", "leader"],
    ...["--log-level", "warn", "--runner-token", TOKEN, "--heartbeat", `${HEARTBEAT_MS}ms`],
  ]);
  const pid = agent.proc.pid as number;
  leaderPid = pid;
  const wsUrl = `${agent.url.replace(/^http/, "ws")}/_runner/ws`;
  const api = new Agent({ connections: 16 });
  const auth = { authorization: `Bearer ${await adminTokenOf(dir.path)}` };
  const call = async (method: "GET" | "POST", path: string, body?: unknown) => {
    const r = await request(`${agent.url}${path}`, {
      method,
      headers: { ...auth, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      dispatcher: api,
    });
    const text = await r.body.text();
    if (r.statusCode >= 300) throw new Error(`${method} ${path}: ${r.statusCode} ${text}`);
    return text;
  };
  const job = (name: string, schedule: string, k: number) =>
    call("POST", "/v1/jobs", {
      name,
      schedule,
      executor: "http",
      executor_config: { url: `${targetUrl}/${name}`, method: "GET" },
      tags: { shard: `s${k % SHARDS}:1` },
    });
  /** Fleet runners the leader lists in /v1/members (without gossip it lists its connected sessions). */
  const streams = async () => {
    const ms = JSON.parse(await call("GET", "/v1/members")) as { Tags: Record<string, string> }[];
    return ms.filter((m) => m.Tags.fleet && m.Tags.last_heartbeat).length;
  };

  const measure = async (label: string, runners: number, warmUp = false): Promise<Figures> => {
    // Idle: nothing runs, the hub pings every runner each heartbeat and answers their pings.
    await sleep(warmUp ? 0 : HEARTBEAT_MS);
    const c0 = cpuMs(pid);
    const w0 = performance.now();
    await sleep(warmUp ? 0 : IDLE_S * 1000);
    const idleCpuMsPerS = ((cpuMs(pid) - c0) / (performance.now() - w0)) * 1000;
    const rss = rssMb(pid);

    // Run-now, one trigger every PACE_MS.
    const names = Array.from({ length: RUNS }, (_, k) => `now-${label}-${k}`);
    for (let k = 0; k < RUNS; k++) await job(names[k]!, "@manually", k);
    const fired = new Map<string, number>();
    const posts: Promise<unknown>[] = [];
    for (const name of names) {
      fired.set(name, wall());
      posts.push(call("POST", `/v1/jobs/${name}`));
      await sleep(PACE_MS);
    }
    await Promise.all(posts);
    await Promise.all(names.map((n) => started(n, 10_000)));
    const runNowRecv = names.flatMap((n) => (seen.has(n) ? [seen.get(n)!.recv - fired.get(n)!] : []));
    const runNowStart = names.flatMap((n) => (seen.has(n) ? [seen.get(n)!.started - fired.get(n)!] : []));

    // Scheduled: RUNS jobs due at the same second.
    const slot = Math.ceil((Date.now() + 3000 + RUNS * 10) / 1000) * 1000;
    const due = Array.from({ length: RUNS }, (_, k) => `at-${label}-${k}`);
    for (let k = 0; k < RUNS; k++) await job(due[k]!, `@at ${new Date(slot).toISOString()}`, k);
    if (Date.now() > slot - 200) throw new Error("creating the @at jobs overran their slot (host too busy)");
    await sleep(slot - Date.now());
    await Promise.all(due.map((n) => started(n, 15_000)));
    const schedRecv = due.flatMap((n) => (seen.has(n) ? [seen.get(n)!.recv - slot] : []));
    const schedStart = due.flatMap((n) => (seen.has(n) ? [seen.get(n)!.started - slot] : []));
    const missing = 2 * RUNS - runNowRecv.length - schedRecv.length;
    const spread = new Set([...names, ...due].flatMap((n) => (seen.has(n) ? [seen.get(n)!.runner] : [])));
    console.log(
      `  ${warmUp ? "warm-up, " : ""}${runners} connected: leader RSS ${rss.toFixed(0)} MB, idle CPU ${idleCpuMsPerS.toFixed(1)} ms/s; ` +
        `${2 * RUNS - missing} of ${2 * RUNS} runs seen on ${spread.size} distinct runners`,
    );
    return { runNowRecv, runNowStart, schedRecv, schedStart, missing, rss, idleCpuMsPerS, runners };
  };

  try {
    console.log(await hostLine(dir.path));
    const idleLeader = rssMb(pid);
    for (let p = 0; p < PROCS; p++) startFleet(wsUrl, p, share(BASE, p));
    await Promise.all(fleets.map((f) => f.next()));
    console.log(
      `leader alone: RSS ${idleLeader.toFixed(0)} MB; ${await streams()} fleet runners connected from ${PROCS} processes`,
    );
    // One unmeasured pass first: the leader's and the runners' first runs pay for JIT and new connections.
    await measure("warm", BASE, true);
    const small = await measure("small", BASE);

    // The rest of the fleet, in the same processes.
    const t0 = performance.now();
    const reports = await Promise.all(fleets.map((f, p) => f.grow(share(RUNNERS, p))));
    const connectS = (performance.now() - t0) / 1000;
    const listed = await streams();
    const fleetRss = reports.reduce((a, r) => a + r.rss, 0) / 1024 / 1024;
    console.log(
      `${RUNNERS} runners connected (${RUNNERS - BASE} more in ${connectS.toFixed(1)} s) from ${PROCS} processes ` +
        `(${(fleetRss / RUNNERS).toFixed(2)} MB RSS per runner client); the leader lists ${listed} of them`,
    );
    if (listed !== RUNNERS) throw new Error(`the leader lists ${listed} connected runners, not ${RUNNERS}`);
    const big = await measure("big", RUNNERS);

    const rows: { figure: string; ours: number; baseline: number; unit: string }[] = [];
    const row = (figure: string, ours: number, baseline: number, unit: string) =>
      rows.push({ figure, ours, baseline, unit });
    for (const [what, key] of [
      ["run-now → runner received", "runNowRecv"],
      ["run-now → started", "runNowStart"],
      [`${RUNS} due at once → runner received`, "schedRecv"],
      [`${RUNS} due at once → started`, "schedStart"],
    ] as const) {
      row(`${what} p50`, percentile(big[key], 50), percentile(small[key], 50), "ms");
      row(`${what} p99`, percentile(big[key], 99), percentile(small[key], 99), "ms");
    }
    row("leader RSS", big.rss, small.rss, "MB");
    row("leader idle CPU (heartbeats)", big.idleCpuMsPerS, small.idleCpuMsPerS, "ms/s");
    // Per runner and heartbeat: the idle CPU the extra runners added, over the heartbeats they had.
    const perBeatUs =
      ((big.idleCpuMsPerS - small.idleCpuMsPerS) * (HEARTBEAT_MS / 1000) * 1000) / (RUNNERS - BASE);
    console.log(
      `\nhub heartbeat cost: ${perBeatUs.toFixed(1)} µs of leader CPU per runner per ${HEARTBEAT_MS} ms heartbeat ` +
        `(${(big.idleCpuMsPerS / 10).toFixed(2)}% of a core idle with ${RUNNERS}, ${(small.idleCpuMsPerS / 10).toFixed(2)}% with ${BASE})`,
    );
    if (small.missing + big.missing > 0)
      console.log(
        `!!! runs never seen by a runner: ${small.missing} with ${BASE}, ${big.missing} with ${RUNNERS}`,
      );
    console.log(await hostLine(dir.path));

    console.log(`\nfigure | ours (${RUNNERS} connected) | baseline (${BASE} connected) | ratio`);
    for (const r of rows)
      console.log(
        `${r.figure} | ${r.ours.toFixed(1)} ${r.unit} | ${r.baseline.toFixed(1)} ${r.unit} | ${(r.ours / r.baseline).toFixed(2)}`,
      );
    const reproduce = `node --import tsx bench/runners-at-scale.ts ${RUNNERS} ${RUNS} ${PROCS} ${IDLE_S}`;
    reportFigures(
      "runners-at-scale",
      rows.map((r) => ({
        figure: `${r.figure}, ${RUNNERS} runners connected`,
        ours: r.ours,
        unit: r.unit,
        baseline: r.baseline,
        baselineWhat: `${BASE} connected`,
        reproduce,
      })),
    );
    if (process.env.BENCH_JSON)
      writeFileSync(
        process.env.BENCH_JSON,
        JSON.stringify({ runners: RUNNERS, baseline: BASE, heartbeatUsPerRunner: perBeatUs, rows }, null, 2),
      );
  } finally {
    for (const f of fleets) killGroup(f.proc);
    await api.close();
    await agent.kill();
    target.close();
    dir.cleanup();
  }
}

for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.on(sig, () => {
    for (const f of fleets) killGroup(f.proc);
    try {
      if (leaderPid) process.kill(-leaderPid, "SIGKILL");
    } catch {
      // Already gone.
    }
    process.exit(130);
  });
await main();
