/**
 * Commit throughput and latency of a 3-node cluster through its API: small jobs (`@manually`, shell
 * `true`) written with POST /v1/jobs straight to the leader over keep-alive connections, by one
 * sequential client and then by N concurrent clients. Every node fsyncs raft.db on each append
 * (synchronous=FULL), so an acknowledged write is durable on a quorum and applied on the leader; state.db
 * runs at NORMAL on cluster nodes because it is replayed from raft.db after a power cut (StateDbOptions).
 *
 * Run: node --import tsx bench/cluster-throughput.ts [seconds per phase = 10] [clients = 64] [profile = default]
 */
import { readFileSync } from "node:fs";
import { Agent, request } from "undici";
import { type ClusterNode, getJson, TestCluster } from "../test/helpers/cluster";
import { tempDir } from "../test/helpers/tmp";
import { benchArgs } from "./args";
import { hostLine } from "./host";
import { reportFigures } from "./report";
import { percentile } from "./stats";

const args = benchArgs(
  "Usage: node --import tsx bench/cluster-throughput.ts [seconds per phase = 10] [clients = 64] [profile = default | fast]",
);
const seconds = args.int(0, "seconds", 10);
const clients = args.int(1, "clients", 64);
const profile = args.choice(2, "profile", ["default", "fast"] as const, "default");
const TARGET_ONE = 500;
const TARGET_MANY = 5000;

interface Status {
  raft: { state: string; leader: string; commit_index: number; applied_index: number };
}

const agent = new Agent({ connections: clients + 4, keepAliveTimeout: 60_000, pipelining: 1 });

/** One write; resolves with its latency in ms, or throws on a non-201 answer. */
async function createJob(base: string, name: string): Promise<number> {
  const t = performance.now();
  const res = await request(`${base}/v1/jobs`, {
    method: "POST",
    dispatcher: agent,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      name,
      schedule: "@manually",
      executor: "shell",
      executor_config: { command: "true" },
    }),
  });
  const body = await res.body.text();
  if (res.statusCode !== 201)
    throw new Error(`POST /v1/jobs ${name}: ${res.statusCode} ${body.slice(0, 300)}`);
  return performance.now() - t;
}

/** CPU time (user + system, ms) a process has used so far; undefined where /proc is not there. */
function cpuMs(pid: number | undefined): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

interface Phase {
  label: string;
  /** CPU ms per acknowledged write: the leader, then each follower. */
  cpu: string;
  writes: number;
  seconds: number;
  latencies: number[];
  entries: number;
  errors: number;
}

/** `n` clients, each writing sequentially for `ms`; counts only acknowledged (201) writes. */
async function phase(
  label: string,
  nodes: ClusterNode[],
  n: number,
  ms: number,
  prefix: string,
): Promise<Phase> {
  const base = nodes[0]!.url;
  const before = await getJson<Status>(`${base}/v1/`);
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
      return a === undefined || b === undefined ? "?" : ((b - a) / Math.max(1, latencies.length)).toFixed(2);
    })
    .join(" / ")
    .concat(` (load generator ${clientCpu.toFixed(2)})`);
  const after = await getJson<Status>(`${base}/v1/`);
  if (errors) process.stderr.write(`${label}: ${errors} failed writes; first: ${firstError}\n`);
  return {
    label,
    writes: latencies.length,
    seconds: elapsed,
    latencies,
    cpu,
    entries: (after?.raft.commit_index ?? 0) - (before?.raft.commit_index ?? 0),
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
    `${"".padEnd(22)} CPU ms per write: leader / followers ${p.cpu}`,
  ].join("\n");
}

async function main() {
  const dir = tempDir("dkron-bench-cluster-");
  const cluster = await TestCluster.start({ size: 3, baseDir: dir.path, profile });
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
    console.log(
      `cluster commit throughput: 3 nodes, raft.db synchronous=FULL (state.db NORMAL, replayed from the log), POST /v1/jobs to the leader (profile ${profile})`,
    );
    console.log(`before: ${hostBefore}`);
    console.log(`after:  ${hostAfter}`);
    console.log(report(one, TARGET_ONE, "commits/s"));
    console.log(report(many, TARGET_MANY, "entries/s"));
    if (still?.name !== leader.name)
      console.log(`note: leadership moved during the run (${leader.name} → ${still?.name ?? "none"})`);
    const repro = `node --import tsx bench/cluster-throughput.ts ${seconds} ${clients} ${profile}`;
    reportFigures("cluster-throughput", [
      {
        figure: "3 nodes, 1 sequential client, acknowledged writes",
        ours: one.writes / one.seconds,
        unit: "commits/s",
        target: { min: TARGET_ONE },
        reproduce: repro,
      },
      {
        figure: `3 nodes, ${clients} concurrent clients, acknowledged writes`,
        ours: many.writes / many.seconds,
        unit: "entries/s",
        target: { min: TARGET_MANY },
        reproduce: repro,
      },
    ]);
  } finally {
    await cluster.stop();
    await agent.close();
    dir.cleanup();
  }
}

await main();
