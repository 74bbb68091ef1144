/**
 * Commit throughput and latency of a 3-node cluster through its API: small jobs (`@manually`, shell
 * `true`) written with POST /v1/jobs straight to the leader over keep-alive connections, by one
 * sequential client and then by N concurrent clients. Every node fsyncs raft.db on each append
 * (synchronous=FULL), so an acknowledged write is durable on a quorum and applied on the leader; state.db
 * runs at NORMAL on cluster nodes because it is replayed from raft.db after a power cut (StateDbOptions).
 * Each node's fsync count (GET /v1 `raft.log_syncs`) gives the entries per fsync: the group commit.
 *
 * Baselines in the same run, after the cluster is stopped: the same clients against a bare Hono POST
 * handler in its own process (bench/bare-post-server.ts: parse, answer 201, nothing else), and the
 * same bodies inserted into a bare SQLite table (WAL, synchronous=FULL) one row per commit and 64 per
 * commit.
 *
 * Run: node --import tsx bench/cluster-throughput.ts [seconds per phase = 10] [clients = 64] [profile = default]
 * (CLUSTER_PROFILE=<dir> makes every node write a V8 CPU profile there.)
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Agent, request } from "undici";
import { type ClusterNode, getJson, TestCluster } from "../test/helpers/cluster";
import { tempDir } from "../test/helpers/tmp";
import { benchArgs } from "./args";
import { hostLine } from "./host";
import { reportFigures } from "./report";
import { percentile } from "./stats";

const args = benchArgs(
  "Usage: [CLUSTER_PROFILE=<dir>] node --import tsx bench/cluster-throughput.ts [seconds per phase = 10] [clients = 64] [profile = default | fast]",
);
const seconds = args.int(0, "seconds", 10);
const clients = args.int(1, "clients", 64);
const profile = args.choice(2, "profile", ["default", "fast"] as const, "default");
const TARGET_ONE = 500;
const TARGET_MANY = 5000;

interface Status {
  raft: {
    state: string;
    leader: string;
    commit_index: number;
    applied_index: number;
    log_syncs: number;
    log_synced_entries: number;
  };
}

const agent = new Agent({ connections: clients + 4, keepAliveTimeout: 60_000, pipelining: 1 });

/** The body of the job called `name`: the same for the cluster and both baselines. */
function jobBody(name: string): string {
  return JSON.stringify({
    name,
    schedule: "@manually",
    executor: "shell",
    executor_config: { command: "true" },
  });
}

/** One write; resolves with its latency in ms, or throws on a non-201 answer. */
async function createJob(base: string, name: string): Promise<number> {
  const t = performance.now();
  const res = await request(`${base}/v1/jobs`, {
    method: "POST",
    dispatcher: agent,
    headers: { "content-type": "application/json" },
    body: jobBody(name),
  });
  const body = await res.body.text();
  if (res.statusCode !== 201)
    throw new Error(`POST /v1/jobs ${name}: ${res.statusCode} ${body.slice(0, 300)}`);
  return performance.now() - t;
}

/** CPU time (user and system, ms) a process has used so far; undefined where /proc is not there. */
function cpuMs(pid: number | undefined): { user: number; sys: number } | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return { user: (Number(f[11]) * 1000) / 100, sys: (Number(f[12]) * 1000) / 100 };
  } catch {
    return undefined;
  }
}

interface Phase {
  label: string;
  /** Entries per fsynced log write: the leader, then each follower ("" without a cluster). */
  perSync: string;
  /** CPU ms per acknowledged write: the leader, then each follower. */
  cpu: string;
  writes: number;
  seconds: number;
  latencies: number[];
  entries: number;
  errors: number;
}

/** `n` clients, each writing sequentially for `ms` to `base`; counts only acknowledged (201) writes. */
async function phase(
  label: string,
  nodes: ClusterNode[],
  n: number,
  ms: number,
  prefix: string,
  base = nodes[0]!.url,
): Promise<Phase> {
  const statuses = () => Promise.all(nodes.map((x) => getJson<Status>(`${x.url}/v1/`)));
  const before = await statuses();
  const cpu0 = nodes.map((x) => cpuMs(x.proc?.pid));
  const client0 = process.cpuUsage();
  const latencies: number[] = [];
  let errors = 0;
  let firstError = "";
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: n }, async (_, c) => {
      for (let i = 0; performance.now() < end; i++) {
        try {
          latencies.push(await createJob(base, `${prefix}-${c}-${i}`));
        } catch (e) {
          if (errors++ === 0) firstError = String(e);
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const clientUse = process.cpuUsage(client0);
  const clientCpu = (clientUse.user + clientUse.system) / 1000 / Math.max(1, latencies.length);
  const cpu = nodes
    .map((x, i) => {
      const a = cpu0[i];
      const b = cpuMs(x.proc?.pid);
      if (a === undefined || b === undefined) return "?";
      const per = (ms: number) => (ms / Math.max(1, latencies.length)).toFixed(2);
      return `${per(b.user - a.user + b.sys - a.sys)} (sys ${per(b.sys - a.sys)})`;
    })
    .join(" / ")
    .concat(` (load generator ${clientCpu.toFixed(2)})`);
  const after = await statuses();
  const perSync = nodes
    .map((_, i) => {
      const a = before[i]?.raft;
      const b = after[i]?.raft;
      if (!a || !b) return "?";
      const syncs = b.log_syncs - a.log_syncs;
      return `${((b.log_synced_entries - a.log_synced_entries) / Math.max(1, syncs)).toFixed(1)} (${syncs} fsyncs)`;
    })
    .join(" / ");
  if (errors) process.stderr.write(`${label}: ${errors} failed writes; first: ${firstError}\n`);
  return {
    label,
    perSync,
    writes: latencies.length,
    seconds: elapsed,
    latencies,
    cpu,
    entries: (after[0]?.raft.commit_index ?? 0) - (before[0]?.raft.commit_index ?? 0),
    errors,
  };
}

function report(p: Phase, target: number, unit: string): string {
  const rate = p.writes / p.seconds;
  const f = (x: number) => x.toFixed(2).padStart(7);
  return [
    `${p.label.padEnd(22)} ${rate.toFixed(0).padStart(6)} ${unit}  (target >= ${target}: ${rate >= target ? "MET" : "NOT MET"})`,
    `${"".padEnd(22)} latency p50=${f(percentile(p.latencies, 50))} ms  p99=${f(percentile(p.latencies, 99))} ms  max=${f(Math.max(...p.latencies))} ms`,
    `${"".padEnd(22)} ${p.writes} acknowledged writes in ${p.seconds.toFixed(1)} s, ${p.errors} errors, ${p.entries} raft entries committed`,
    ...(p.perSync ? [`${"".padEnd(22)} entries per fsync: leader / followers ${p.perSync}`] : []),
    `${"".padEnd(22)} CPU ms per write: ${p.perSync ? "leader / followers " : ""}${p.cpu}`,
  ].join("\n");
}

/** The bare Hono POST handler (bench/bare-post-server.ts) in its own process, as the baseline. */
async function bareHono(n: number, ms: number): Promise<Phase> {
  const server = spawn(
    process.execPath,
    ["--import", "tsx", new URL("./bare-post-server.ts", import.meta.url).pathname],
    { stdio: ["ignore", "pipe", "inherit"], detached: true },
  );
  try {
    const port = await new Promise<string>((resolve, reject) => {
      server.once("exit", (code) => reject(new Error(`bare-post-server exited (${code})`)));
      server.stdout!.once("data", (d) => resolve(String(d).trim()));
    });
    const base = `http://127.0.0.1:${port}`;
    const self = { name: "bare", url: base, proc: server } as unknown as ClusterNode;
    await phase("warm-up", [self], Math.min(n, 8), 1000, "warm", base);
    const p = await phase(`bare Hono, ${n} client${n === 1 ? "" : "s"}`, [self], n, ms, "bare", base);
    return { ...p, perSync: "" };
  } finally {
    if (server.pid) process.kill(-server.pid, "SIGKILL");
  }
}

/** Rows/s of the jobs' bodies into a bare SQLite table (WAL, synchronous=FULL), `batch` rows a commit. */
function bareSqlite(dir: string, batch: number, ms: number): number {
  const db = new Database(join(dir, `bare-${batch}.db`));
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.exec("CREATE TABLE entries (idx INTEGER PRIMARY KEY, data TEXT NOT NULL)");
    const ins = db.prepare("INSERT INTO entries (idx, data) VALUES (?, ?)");
    let i = 0;
    const commit = db.transaction(() => {
      for (let k = 0; k < batch; k++, i++) ins.run(i, jobBody(`bare-${i}`));
    });
    const t = performance.now();
    while (performance.now() - t < ms) commit();
    return i / ((performance.now() - t) / 1000);
  } finally {
    db.close();
  }
}

async function main() {
  const dir = tempDir("dkron-bench-cluster-");
  // CLUSTER_PROFILE=<dir>: every node writes a CPU profile there (stopped with SIGTERM so it is written).
  const profileDir = process.env.CLUSTER_PROFILE;
  const cluster = await TestCluster.start({
    size: 3,
    baseDir: dir.path,
    profile,
    nodeArgs: profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
  });
  let stopped = false;
  const stopCluster = async () => {
    if (stopped) return;
    stopped = true;
    if (profileDir)
      await Promise.all(
        cluster.alive().map(async (n) => {
          cluster.signal(n, "SIGTERM");
          await cluster.waitForExit(n).catch(() => undefined);
        }),
      );
    await cluster.stop();
  };
  try {
    const leader = await cluster.waitForLeader();
    const nodes = [leader, ...cluster.nodes.filter((n) => n !== leader)];
    process.stderr.write(`cluster up (profile ${profile}); leader ${leader.name} at ${leader.url}\n`);
    const hostBefore = await hostLine(dir.path);
    // Warm-up: JIT, prepared statements, connections.
    await phase("warm-up", nodes, Math.min(clients, 8), 1500, "warm");
    process.stderr.write(`1 sequential client for ${seconds} s ...\n`);
    const one = await phase("1 sequential client", nodes, 1, seconds * 1000, "seq");
    process.stderr.write(`${clients} concurrent clients for ${seconds} s ...\n`);
    const many = await phase(`${clients} concurrent clients`, nodes, clients, seconds * 1000, "par");
    const still = await cluster.leader();
    const hostAfter = await hostLine(dir.path);
    await stopCluster();
    // Baselines, same run, with the cluster gone: it would share the two cores with them.
    const baseMs = Math.max(3, Math.min(seconds, 5)) * 1000;
    process.stderr.write(`baselines: bare Hono (1 and ${clients} clients), bare SQLite ...\n`);
    const honoOne = await bareHono(1, baseMs);
    const honoMany = await bareHono(clients, baseMs);
    const sqliteOne = bareSqlite(dir.path, 1, baseMs / 2);
    const sqliteMany = bareSqlite(dir.path, 64, baseMs / 2);
    console.log(
      `cluster commit throughput: 3 nodes, raft.db synchronous=FULL (state.db NORMAL, replayed from the log), POST /v1/jobs to the leader (profile ${profile})`,
    );
    console.log(`before: ${hostBefore}`);
    console.log(`after:  ${hostAfter}`);
    console.log(report(one, TARGET_ONE, "commits/s"));
    console.log(report(many, TARGET_MANY, "entries/s"));
    console.log(report(honoOne, TARGET_ONE, "writes/s"));
    console.log(report(honoMany, TARGET_MANY, "writes/s"));
    console.log(
      `bare SQLite (WAL, FULL)  ${sqliteOne.toFixed(0)} rows/s one row per commit, ${sqliteMany.toFixed(0)} rows/s 64 rows per commit`,
    );
    if (still?.name !== leader.name)
      console.log(`note: leadership moved during the run (${leader.name} → ${still?.name ?? "none"})`);
    const repro = `node --import tsx bench/cluster-throughput.ts ${seconds} ${clients} ${profile}`;
    reportFigures("cluster-throughput", [
      {
        figure: "3 nodes, 1 sequential client, acknowledged writes",
        ours: one.writes / one.seconds,
        unit: "commits/s",
        baseline: honoOne.writes / honoOne.seconds,
        baselineWhat: "bare Hono POST, 1 client",
        target: { min: TARGET_ONE },
        reproduce: repro,
      },
      {
        figure: "3 nodes, 1 sequential client, against bare SQLite one row per FULL commit",
        ours: one.writes / one.seconds,
        unit: "commits/s",
        baseline: sqliteOne,
        baselineWhat: "bare SQLite, 1 row/commit",
        target: { min: TARGET_ONE },
        reproduce: repro,
      },
      {
        figure: `3 nodes, ${clients} concurrent clients, acknowledged writes`,
        ours: many.writes / many.seconds,
        unit: "entries/s",
        baseline: honoMany.writes / honoMany.seconds,
        baselineWhat: `bare Hono POST, ${clients} clients`,
        target: { min: TARGET_MANY },
        reproduce: repro,
      },
      {
        figure: `3 nodes, ${clients} concurrent clients, against bare SQLite 64 rows per FULL commit`,
        ours: many.writes / many.seconds,
        unit: "entries/s",
        baseline: sqliteMany,
        baselineWhat: "bare SQLite, 64 rows/commit",
        target: { min: TARGET_MANY },
        reproduce: repro,
      },
    ]);
  } finally {
    await stopCluster();
    await agent.close();
    dir.cleanup();
  }
}

await main();
