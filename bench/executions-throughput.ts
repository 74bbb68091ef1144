/**
 * Executions through a three-node cluster (issue 9 point 3): N http jobs `@every 1s` (default 1,000,
 * so 1,000 executions a second) calling a server in this process, run by the nodes' embedded
 * runners, for S seconds (default 60). Every start and finish is a committed Raft entry (or a share
 * of a batched one) on a quorum before the next step.
 *
 * Printed: requests the server received per second over the window (p50 and the lowest second),
 * executions the cluster recorded as finished successfully for the window's slots, how late the
 * requests arrived against their slot, the leader's RSS every 5 s of the window (which starts after
 * `warmup` seconds of load, default 120: V8 and the allocator size the process meanwhile), its live
 * heap after a full GC in the warm-up and after the window, each just after a snapshot (through the
 * inspector: a leak grows it), each node's snapshots and term changes, slots that got more than one
 * execution, and its commit rate. Baseline, same run: one process firing N requests every second to
 * the same server through a pooled undici Agent (what this host can push without any scheduler or Raft).
 *
 * Each job carries `"server": "true:1"`, so every slot runs on one node: a job without tags runs on
 * every alive node (Dkron's default), which would make 1,000 jobs 3,000 executions a second here.
 * The nodes keep enough history (--execution-retention) that no slot of the window is pruned
 * before it is counted.
 *
 * Run: node --import tsx bench/executions-throughput.ts [jobs = 1000] [seconds = 60] [profile = default] [warmup = 120]
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent, request } from "undici";
import { getJson, TestCluster } from "../test/helpers/cluster";
import { tempDir } from "../test/helpers/tmp";
import { benchArgs } from "./args";
import { createJobs } from "./create-jobs";
import { hostLine } from "./host";
import { inspectorUrl, liveHeapMb, memoryMb } from "./live-heap";
import { reportFigures } from "./report";
import { percentile } from "./stats";

const args = benchArgs(
  "Usage: node --import tsx bench/executions-throughput.ts [jobs = 1000] [seconds = 60] [profile = default | fast] [warmup s = 120]",
);
const JOBS = args.int(0, "jobs", 1000);
const SECONDS = args.int(1, "seconds", 60);
const profile = args.choice(2, "profile", ["default", "fast"] as const, "default");
const TARGET = 1000;
/**
 * Seconds of load before the window. The leader's RSS grows to its working size over the first
 * ~2 minutes at 1,000 executions/s (V8's heapTotal ~65 → 160-270 MB, SQLite's caches, the snapshot
 * thread) while its live heap stays ~55 MB; a 300 s window after 30 s showed thirds of 323, 369, 366 MB.
 */
const WARMUP_S = args.int(3, "warmup", 120);

const wall = () => performance.timeOrigin + performance.now();

/** A server counting requests per wall-clock second and how late each came against its slot. */
async function server() {
  const perSecond = new Map<number, number>();
  const lateness: number[] = [];
  let counting = false;
  const s = createServer((req, res) => {
    const at = wall();
    if (counting) {
      const sec = Math.floor(at / 1000);
      perSecond.set(sec, (perSecond.get(sec) ?? 0) + 1);
      const slot = req.headers["x-dkron-scheduled-at"];
      const q = req.url?.indexOf("slot=") ?? -1;
      const t =
        typeof slot === "string" ? Date.parse(slot) : q >= 0 ? Number(req.url!.slice(q + 5)) : Number.NaN;
      if (Number.isFinite(t)) lateness.push(at - t);
    }
    res.end("ok");
  });
  s.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  return {
    url,
    perSecond,
    lateness,
    count(on: boolean) {
      counting = on;
    },
    reset() {
      perSecond.clear();
      lateness.length = 0;
    },
    close: () => s.close(),
  };
}

/** Per-second counts of the whole seconds in [from, to). */
function seconds(perSecond: Map<number, number>, from: number, to: number): number[] {
  const xs: number[] = [];
  for (let s = Math.ceil(from / 1000); s < Math.floor(to / 1000); s++) xs.push(perSecond.get(s) ?? 0);
  return xs;
}

/** Least-squares slope of samples taken every `everyS` seconds, in units per minute (a leak is a steady one). */
function slopePerMinute(ys: number[], everyS: number): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (const [i, y] of ys.entries()) {
    num += (i - mx) * (y - my);
    den += (i - mx) ** 2;
  }
  return (num / den) * (60 / everyS);
}

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** One node's raft status at one second of the window (undefined: it did not answer). */
type RaftSample = { at: number; snapshot: number; term: number; held: number } | undefined;

/** What one node's samples show: its snapshots and term changes (seconds into the window), the log it held. */
function raftEvents(xs: RaftSample[], from: number): string {
  const seen = xs.filter((x): x is NonNullable<RaftSample> => x !== undefined);
  if (!seen.length) return "no status answered";
  const at = (x: NonNullable<RaftSample>) => ((x.at - from) / 1000).toFixed(0);
  const snaps = seen.filter((x, i) => i > 0 && x.snapshot !== seen[i - 1]!.snapshot).map(at);
  const terms = seen.filter((x, i) => i > 0 && x.term !== seen[i - 1]!.term).map(at);
  const held = seen.map((x) => x.held);
  return [
    `${snaps.length} snapshots${snaps.length ? ` (at ${snaps.join(", ")} s)` : ""}`,
    `${terms.length} term changes${terms.length ? ` (at ${terms.join(", ")} s)` : ""}`,
    `entries after the snapshot ${Math.min(...held)}-${Math.max(...held)}`,
    `${xs.length - seen.length} seconds without an answer`,
  ].join("; ");
}

const dir = tempDir("dkron-exec-tput-");
const hit = await server();
// History for the job creation, the warm-up and the window, with room to spare.
const retention = Math.max(100, 2 * SECONDS + WARMUP_S + 200);
const cluster = await TestCluster.start({
  size: 3,
  baseDir: dir.path,
  profile,
  extraArgs: ["--execution-retention", String(retention)],
  // The inspector on a random port: the leader's live heap after a full GC, at the window's start and end.
  nodeArgs: ["--inspect=127.0.0.1:0"],
});
try {
  console.log(`executions-throughput: ${JOBS} http jobs @every 1s, ${SECONDS} s, 3 nodes (${profile})`);
  console.log(await hostLine(dir.path));

  // Baseline: this process fires JOBS requests at every second, for a third of the window.
  const baseSeconds = Math.max(5, Math.round(SECONDS / 3));
  const pool = new Agent({ connections: 256 });
  hit.reset();
  hit.count(true);
  const b0 = Math.ceil((Date.now() + 300) / 1000) * 1000;
  for (let k = 0; k < baseSeconds; k++) {
    const slot = b0 + k * 1000;
    await sleepUntil(slot);
    void Promise.all(
      Array.from({ length: JOBS }, (_, i) =>
        request(`${hit.url}/base/${i}?slot=${slot}`, { dispatcher: pool }).then((r) => r.body.text()),
      ),
    ).catch((e) => console.error(`baseline request failed: ${e}`));
  }
  await sleepUntil(b0 + baseSeconds * 1000 + 1500);
  hit.count(false);
  const base = seconds(hit.perSecond, b0, b0 + baseSeconds * 1000);
  const baseLate = [...hit.lateness];
  await pool.close();

  const leader = await cluster.waitForLeader();
  const pid = leader.proc?.pid as number;
  const agent = new Agent({ connections: 40, keepAliveTimeout: 60_000 });
  const t0 = performance.now();
  await createJobs({
    base: leader.url,
    n: JOBS,
    clients: 32,
    agent,
    body: (i) =>
      JSON.stringify({
        name: `tput-${i}`,
        schedule: "@every 1s",
        executor: "http",
        tags: { server: "true:1" },
        executor_config: { url: `${hit.url}/job/${i}`, method: "GET" },
      }),
  });
  // The window starts once the leader's RSS has reached this load's working size (see WARMUP_S).
  const rssBefore = rssMb(leader.proc?.pid as number);
  console.log(
    `created ${JOBS} jobs in ${((performance.now() - t0) / 1000).toFixed(1)} s; leader RSS ${rssBefore.toFixed(0)} MB; warming up ${WARMUP_S} s`,
  );
  type St = {
    raft: { commit_index: number; last_snapshot_index: number; term: number; last_log_index: number };
  };
  // The live heap is first measured halfway through the warm-up: its full GC stalls the leader and
  // shrinks its RSS for a while, so it must not fall in the window. The Raft log held since the
  // last snapshot is live heap too (a snapshot every ~45 s here), so both measurements are taken
  // just after a snapshot, and the entries held then are printed beside them.
  const inspector = inspectorUrl(leader.log);
  if (!inspector)
    console.log("the leader's inspector URL is not in its log: the live-heap figures will be NaN");
  const heapAt = async () => {
    const first = (await getJson<St>(`${leader.url}/v1`))?.raft.last_snapshot_index;
    for (const end = Date.now() + 90_000; Date.now() < end; ) {
      const st = await getJson<St>(`${leader.url}/v1`);
      if (st && st.raft.last_snapshot_index !== first) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const heap = inspector ? await liveHeapMb(inspector) : Number.NaN;
    const st = await getJson<St>(`${leader.url}/v1`);
    return { heap, held: st ? st.raft.last_log_index - st.raft.last_snapshot_index : Number.NaN };
  };
  const warmEnd = Date.now() + WARMUP_S * 1000;
  await new Promise((r) => setTimeout(r, (WARMUP_S * 1000) / 2));
  const heapStart = await heapAt();
  await sleepUntil(Math.max(warmEnd, Date.now() + 20_000));

  const from = Math.ceil((Date.now() + 100) / 1000) * 1000;
  const to = from + SECONDS * 1000;
  await sleepUntil(from);
  hit.reset();
  hit.count(true);
  const rssStart = rssMb(pid);
  const commitStart = (await getJson<St>(`${leader.url}/v1`))?.raft.commit_index ?? 0;
  const rss: number[] = [rssStart];
  // Commits each second of the window: a stall shows as seconds with few, and when they were.
  const commits: number[] = [];
  const raft: RaftSample[][] = cluster.nodes.map(() => []);
  let lastCommit = commitStart;
  for (let k = 1; Date.now() < to; k++) {
    await sleepUntil(from + k * 1000);
    const at = Date.now();
    const sts = await Promise.all(cluster.nodes.map((n) => getJson<St>(`${n.url}/v1`, 900)));
    for (const [i, st] of sts.entries())
      raft[i]!.push(
        st && {
          at,
          snapshot: st.raft.last_snapshot_index,
          term: st.raft.term,
          held: st.raft.last_log_index - st.raft.last_snapshot_index,
        },
      );
    const c = sts[cluster.nodes.indexOf(leader)]?.raft.commit_index ?? lastCommit;
    commits.push(c - lastCommit);
    lastCommit = c;
    if (k % 5 === 0) rss.push(rssMb(pid));
    if (k % 30 === 0 && inspector) {
      const m = await memoryMb(inspector, false);
      console.log(
        `  at ${k} s: leader rss ${m.rss.toFixed(0)} MB, V8 heap ${m.heapUsed.toFixed(0)} used of ${m.heapTotal.toFixed(0)} MB, external ${m.external.toFixed(0)} MB`,
      );
    }
  }
  await sleepUntil(to);
  hit.count(false);
  const commitEnd = (await getJson<St>(`${leader.url}/v1`))?.raft.commit_index ?? 0;
  const rssEnd = rssMb(pid);
  const heapEnd = await heapAt();
  const ours = seconds(hit.perSecond, from, to);
  const oursLate = [...hit.lateness];

  // Stop the jobs, then count the executions the cluster recorded for the window's slots.
  const stillLeader = (await cluster.leader()) ?? leader;
  for (let i = 0; i < JOBS; i += 50)
    await Promise.all(
      Array.from({ length: Math.min(50, JOBS - i) }, (_, k) =>
        request(`${stillLeader.url}/v1/jobs/tput-${i + k}/toggle`, {
          method: "POST",
          dispatcher: agent,
        }).then((r) => r.body.text()),
      ),
    );
  await new Promise((r) => setTimeout(r, 3000));
  let recorded = 0;
  const others = new Map<string, number>();
  /** Executions per (job, slot): a slot run twice would be a bug the bench must show. */
  const perSlot = new Map<string, { id: string; attempt?: number; state: string }[]>();
  for (let i = 0; i < JOBS; i += 25) {
    const lists = await Promise.all(
      Array.from({ length: Math.min(25, JOBS - i) }, (_, k) =>
        getJson<{ id: string; job_name: string; attempt?: number; scheduled_at?: string; state: string }[]>(
          `${stillLeader.url}/v1/jobs/tput-${i + k}/executions`,
          10_000,
        ),
      ),
    );
    for (const l of lists)
      for (const e of l ?? []) {
        const slot = e.scheduled_at ? Date.parse(e.scheduled_at) : Number.NaN;
        if (!(slot >= from && slot < to)) continue;
        const key = `${e.job_name} ${e.scheduled_at}`;
        perSlot.set(key, [...(perSlot.get(key) ?? []), { id: e.id, attempt: e.attempt, state: e.state }]);
        if (e.state === "success") recorded++;
        else others.set(e.state, (others.get(e.state) ?? 0) + 1);
      }
  }
  await agent.close();
  const twice = [...perSlot].filter(([, xs]) => xs.length > 1);
  console.log(`slots with more than one execution: ${twice.length} of ${perSlot.size}`);
  for (const [k, xs] of twice.slice(0, 3)) console.log(`  ${k}: ${JSON.stringify(xs)}`);

  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const oursRate = sum(ours) / SECONDS;
  const baseRate = sum(base) / baseSeconds;
  console.log(
    `\nper-second requests, ours: p50 ${percentile(ours, 50)}, lowest ${Math.min(...ours)}; baseline p50 ${percentile(base, 50)}, lowest ${Math.min(...base)}`,
  );
  console.log(
    `recorded successful executions for the window's slots: ${recorded} of ${JOBS * SECONDS} (others: ${[...others].map(([k, v]) => `${v} ${k}`).join(", ") || "none"})`,
  );
  console.log(
    `leader commits: ${((commitEnd - commitStart) / SECONDS).toFixed(0)} entries/s; RSS ${rss.map((x) => x.toFixed(0)).join(" → ")} MB (every 5 s); trend ${slopePerMinute(rss, 5).toFixed(1)} MB/min, second half ${slopePerMinute(rss.slice(Math.floor(rss.length / 2)), 5).toFixed(1)} MB/min`,
  );
  console.log(
    `leader live heap after a full GC: ${heapStart.heap.toFixed(0)} MB in the warm-up and ${heapEnd.heap.toFixed(0)} MB after the window, each just after a snapshot (Raft log held: ${heapStart.held} and ${heapEnd.held} entries)`,
  );
  const stalls = commits.flatMap((c, k) => (c === 0 ? [k] : []));
  console.log(
    `leader commits per second of the window: p50 ${percentile(commits, 50)}, lowest ${Math.min(...commits)}; seconds with none: ${stalls.length ? stalls.join(", ") : "none"}`,
  );
  for (const [i, n] of cluster.nodes.entries()) console.log(`  ${n.name}: ${raftEvents(raft[i]!, from)}`);
  console.log(await hostLine(dir.path));
  const reproduce = `node --import tsx bench/executions-throughput.ts ${JOBS} ${SECONDS} ${profile} ${WARMUP_S}`;
  reportFigures("executions-throughput", [
    {
      figure: `executions/s reaching the server, ${JOBS} http jobs @every 1s, 3 nodes, ${SECONDS} s`,
      ours: oursRate,
      unit: "/s",
      baseline: baseRate,
      baselineWhat: "one process, N requests a second",
      target: { min: TARGET },
      reproduce,
    },
    {
      figure: "executions recorded successful, per second of the window",
      ours: recorded / SECONDS,
      unit: "/s",
      target: { min: TARGET },
      reproduce,
    },
    {
      figure: "request lateness against the slot, p99",
      ours: percentile(oursLate, 99),
      unit: "ms",
      baseline: percentile(baseLate, 99),
      baselineWhat: "one process, N requests a second",
      reproduce,
    },
    {
      figure: "leader RSS, highest / lowest sample of the window (every 5 s: GC's sawtooth)",
      ours: Math.max(...rss, rssEnd) / Math.min(...rss, rssEnd),
      unit: "×",
      reproduce,
    },
    {
      figure: "leader live heap after a full GC, after the window / in the warm-up (a leak grows it)",
      ours: heapEnd.heap / heapStart.heap,
      unit: "×",
      target: { max: 1.1 },
      reproduce,
    },
    {
      // Medians of thirds, not two samples: GC's sawtooth puts any one sample anywhere in its swing.
      figure: "leader RSS, median of the window's last third / first third (growth)",
      ours:
        percentile(rss.slice(-Math.ceil(rss.length / 3)), 50) /
        percentile(rss.slice(0, Math.ceil(rss.length / 3)), 50),
      unit: "×",
      target: { max: 1.1 },
      reproduce,
    },
  ]);
} finally {
  await cluster.stop();
  hit.close();
  dir.cleanup();
}
