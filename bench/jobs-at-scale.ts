/**
 * Jobs at scale: N jobs created through the real API on one real node process (or a three-node
 * cluster) by 32 concurrent clients, then every list query the API and UIs send, at N jobs.
 *
 * Prints, each beside a same-run baseline:
 *   - jobs/s per decile of the N creates (first vs last), beside bare SQLite one-row commits/s in the
 *     same directory (WAL, synchronous=FULL, 32-row batches as a Raft batch would commit them);
 *   - p50/p99 of each list query at N jobs (GET /v1/jobs pages, _sort on every field both ways, q,
 *     status, disabled, metadata, a deep page, executions of a job), beside a bare Hono handler that
 *     answers a 25-job page from memory on the same port kind;
 *   - event-loop delay: GET /v1/jobs/:name latency while an unpaged GET /v1/jobs streams, beside
 *     the same GET with the node idle;
 *   - leader RSS at N jobs; restart to serving (SIGKILL, start again, first 200 of GET /v1/jobs/:name).
 *
 * Run: node --import tsx bench/jobs-at-scale.ts [jobs = 100000] [nodes = 1 | 3] [repeats = 40]
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { getRequestListener } from "@hono/node-server";
import Database from "better-sqlite3";
import { Hono } from "hono";
import { Agent, request } from "undici";
import { JOB_SORTS } from "../control/store";
import { type ClusterNode, TestCluster } from "../test/helpers/cluster";
import { tempDir } from "../test/helpers/tmp";
import { benchArgs } from "./args";
import { createJobs } from "./create-jobs";
import { hostLine } from "./host";
import { type Figure, reportFigures } from "./report";
import { percentile } from "./stats";

const args = benchArgs(
  "Usage: node --import tsx bench/jobs-at-scale.ts [jobs = 100000] [nodes = 1|3] [repeats = 40]",
);
const N = args.int(0, "jobs", 100_000);
const nodes = Number(args.choice(1, "nodes", ["1", "3"] as const, "1"));
const REPEATS = args.int(2, "repeats", 40);
const CLIENTS = 32;

const agent = new Agent({ connections: CLIENTS + 8, keepAliveTimeout: 60_000 });
const out = (s: string) => process.stdout.write(`${s}\n`);
const ms = (x: number) => `${x.toFixed(1)} ms`;

/** The i-th job: a mix of schedules, metadata and display names, as a real fleet has. */
function jobBody(i: number): string {
  const schedules = ["@manually", "@every 1h", "0 */15 * * * *", "@daily", "0 30 2 * * *"];
  return JSON.stringify({
    name: `job-${String(i).padStart(6, "0")}`,
    displayname: i % 3 ? `Backup ${i % 97}` : "",
    schedule: schedules[i % schedules.length],
    timezone: i % 7 === 0 ? "Europe/Berlin" : "",
    disabled: i % 10 === 9,
    metadata: { team: `t${i % 20}`, env: i % 2 ? "prod" : "dev" },
    executor: "shell",
    executor_config: { command: "true" },
  });
}

async function get(
  url: string,
): Promise<{ status: number; ms: number; total: string | undefined; bytes: number }> {
  const t = performance.now();
  const res = await request(url, { dispatcher: agent });
  const body = await res.body.text();
  const total = res.headers["x-total-count"];
  return {
    status: res.statusCode,
    ms: performance.now() - t,
    total: total === undefined ? undefined : String(total),
    bytes: body.length,
  };
}

async function timed(url: string, n = REPEATS): Promise<number[]> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await get(url);
    if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
    xs.push(r.ms);
  }
  return xs;
}

function rssMb(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Bare SQLite: commits/s of 32-row transactions of job-sized rows (WAL, FULL), the floor for writes. */
function sqliteBaseline(dir: string, rows: number): number {
  const db = new Database(join(dir, "baseline.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec("CREATE TABLE t (name TEXT PRIMARY KEY, spec TEXT NOT NULL)");
  const ins = db.prepare("INSERT INTO t VALUES (?, ?)");
  const batch = db.transaction((from: number) => {
    for (let i = from; i < from + 32; i++) ins.run(`job-${i}`, jobBody(i));
  });
  const t = performance.now();
  for (let i = 0; i < rows; i += 32) batch(i);
  const rate = rows / ((performance.now() - t) / 1000);
  db.close();
  return rate;
}

/** A bare Hono handler answering a 25-job page from memory over node:http: the floor for a list. */
async function honoBaseline(): Promise<number[]> {
  const page = Array.from({ length: 25 }, (_, i) => JSON.parse(jobBody(i)));
  const app = new Hono().get("/v1/jobs", (c) => {
    c.header("X-Total-Count", String(N));
    return c.json(page);
  });
  const server = createServer(getRequestListener(app.fetch));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  try {
    await timed(`http://127.0.0.1:${port}/v1/jobs`, 20);
    return await timed(`http://127.0.0.1:${port}/v1/jobs`);
  } finally {
    server.close();
  }
}

async function createAll(base: string): Promise<number[]> {
  return createJobs({ base, n: N, clients: CLIENTS, agent, body: jobBody });
}

async function waitServing(url: string, timeoutMs = 60_000): Promise<number> {
  const t = performance.now();
  while (performance.now() - t < timeoutMs) {
    try {
      const r = await request(url, { dispatcher: agent, headersTimeout: 2000 });
      await r.body.text();
      if (r.statusCode === 200) return performance.now() - t;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${url} not serving within ${timeoutMs} ms`);
}

const dir = tempDir("dkron-scale-");
let cluster: TestCluster | undefined;
try {
  out(`jobs-at-scale: ${N} jobs, ${nodes} node(s), ${CLIENTS} clients, ${REPEATS} repeats per query`);
  out(await hostLine(dir.path));
  const bare = sqliteBaseline(dir.path, Math.min(N, 20_000));
  const hono = await honoBaseline();

  cluster = await TestCluster.start({ size: nodes, baseDir: dir.path, profile: "fast" });
  let leader: ClusterNode = await cluster.waitForLeader(60_000);
  const base = leader.url;

  const t0 = performance.now();
  const marks = await createAll(base);
  const secs = (performance.now() - t0) / 1000;
  out("\n-- POST /v1/jobs, 32 clients");
  out(`baseline: bare SQLite, 32-row FULL commits of job-sized rows: ${bare.toFixed(0)} rows/s`);
  let prev = 0;
  const rates = marks.map((m) => {
    const r = N / 10 / ((m - prev) / 1000);
    prev = m;
    return r;
  });
  for (const [k, r] of rates.entries()) {
    out(`decile ${k + 1} (jobs ${(k * N) / 10}-${((k + 1) * N) / 10}): ${r.toFixed(0)} jobs/s`);
  }

  out(
    `all ${N}: ${(N / secs).toFixed(0)} jobs/s in ${secs.toFixed(1)} s; last decile / first: ${(rates.at(-1)! / rates[0]!).toFixed(2)}`,
  );

  // Some history for the executions list: 30 manual runs of one job.
  const runJob = "job-000000";
  for (let i = 0; i < 30; i++) {
    const r = await request(`${base}/v1/jobs/${runJob}/run`, { method: "POST", dispatcher: agent });
    await r.body.text();
  }
  // The runs finish first: their starts and finishes are not the list queries' neighbours.
  const settle = Date.now() + 30_000;
  for (;;) {
    const r = await request(`${base}/v1/jobs/${runJob}/executions`, { dispatcher: agent });
    const xs = (await r.body.json()) as { state: string }[];
    if (xs.length >= 30 && xs.every((e) => e.state !== "running")) break;
    if (Date.now() > settle) throw new Error(`the 30 runs of ${runJob} did not all finish in 30 s`);
    await new Promise((res) => setTimeout(res, 200));
  }

  out(`\n-- list queries at ${N} jobs (p50 / p99 over ${REPEATS})`);
  out(
    `baseline: bare Hono handler, a 25-job page from memory: ${ms(percentile(hono, 50))} / ${ms(percentile(hono, 99))}`,
  );
  const queries: [string, string][] = [
    ["first page", "_start=0&_end=25"],
    ["deep page", `_start=${N - 25}&_end=${N}`],
    // Every sortable field, from the listing's own table, so a new one is measured too.
    ...JOB_SORTS.flatMap((f): [string, string][] => [
      [`_sort=${f} ASC`, `_sort=${f}&_order=ASC&_start=0&_end=25`],
      [`_sort=${f} DESC`, `_sort=${f}&_order=DESC&_start=0&_end=25`],
    ]),
    ["q (substring, many matches)", "q=Backup 5&_start=0&_end=25"],
    ["q (one match)", `q=job-0${String(N - 7).padStart(5, "0")}&_start=0&_end=25`],
    ["status=untriggered", "status=untriggered&_start=0&_end=25"],
    ["status=success (none)", "status=success&_start=0&_end=25"],
    ["disabled=true", "disabled=true&_start=0&_end=25"],
    ["metadata[team]=t7", "metadata[team]=t7&_start=0&_end=25"],
    [
      "metadata[team]=t7&metadata[env]=prod, _sort=next",
      "metadata[team]=t7&metadata[env]=prod&_sort=next&_start=0&_end=25",
    ],
    // The same entries the other way round: the one with fewer jobs drives either way.
    [
      "metadata[env]=prod&metadata[team]=t7, _sort=next",
      "metadata[env]=prod&metadata[team]=t7&_sort=next&_start=0&_end=25",
    ],
  ];
  const repro = `node --import tsx bench/jobs-at-scale.ts ${N} ${nodes}`;
  const figures: Figure[] = [
    {
      figure: `POST /v1/jobs, all ${N} (${nodes} node${nodes > 1 ? "s" : ""}, ${CLIENTS} clients)`,
      ours: N / secs,
      unit: "jobs/s",
      baseline: bare,
      baselineWhat: "bare SQLite rows/s",
      // The 1,000 jobs/s is one node's; a cluster is held to writes costing the same at N (below).
      ...(nodes === 1 ? { target: { min: 1000 } } : {}),
      reproduce: repro,
    },
    {
      figure: "POST /v1/jobs, last decile / first decile",
      ours: rates.at(-1)! / rates[0]!,
      unit: "×",
      target: { note: "≈ 1 (a write costs the same at N as at 100)" },
      reproduce: repro,
    },
  ];
  let worst = 0;
  let worstLabel = "";
  for (const [label, q] of queries) {
    const url = `${base}/v1/jobs?${q.replaceAll(" ", "%20")}`;
    const xs = await timed(url);
    const p99 = percentile(xs, 99);
    if (p99 > worst) worstLabel = label;
    worst = Math.max(worst, p99);
    const total = (await get(url)).total;
    out(
      `${label.padEnd(52)} ${ms(percentile(xs, 50)).padStart(9)} / ${ms(p99).padStart(9)}  (X-Total-Count ${total})`,
    );
  }
  const ex = await timed(`${base}/v1/jobs/${runJob}/executions?_start=0&_end=25`);
  out(
    `${"executions of a job (30 runs), first page".padEnd(52)} ${ms(percentile(ex, 50)).padStart(9)} / ${ms(percentile(ex, 99)).padStart(9)}`,
  );
  out(`worst list p99: ${ms(worst)} (target <= 50 ms)`);
  figures.push({
    figure: `worst list query p99 at ${N} jobs (${worstLabel})`,
    ours: worst,
    unit: "ms",
    baseline: percentile(hono, 99),
    baselineWhat: "bare Hono page",
    target: { max: 50 },
    reproduce: repro,
  });

  out("\n-- event loop: GET /v1/jobs/:name while an unpaged GET /v1/jobs streams");
  const idle = await timed(`${base}/v1/jobs/job-000123`);
  let streaming = true;
  const during: number[] = [];
  const t1 = performance.now();
  const all = get(`${base}/v1/jobs`).finally(() => {
    streaming = false;
  });
  while (streaming) during.push((await get(`${base}/v1/jobs/job-000123`)).ms);
  const whole = await all;
  out(`baseline: GET /v1/jobs/:name, node idle: ${ms(percentile(idle, 50))} / ${ms(percentile(idle, 99))}`);
  out(
    `during the unpaged list (${(whole.bytes / 1e6).toFixed(1)} MB in ${ms(performance.now() - t1)}): n=${during.length} ${ms(percentile(during, 50))} / ${ms(percentile(during, 99))}, max ${ms(Math.max(...during))}`,
  );

  out("\n-- memory and restart");
  const rss = rssMb(leader.proc?.pid);
  out(`leader RSS at ${N} jobs: ${rss.toFixed(0)} MB (target <= 500 MB)`);
  figures.push({
    figure: `leader RSS at ${N} jobs`,
    ours: rss,
    unit: "MB",
    target: { max: 500 },
    reproduce: repro,
  });
  await cluster.kill(leader);
  cluster.spawn(leader);
  const restart = await waitServing(`${leader.url}/v1/jobs/job-000123${nodes > 1 ? "?stale" : ""}`);
  out(
    `restart to serving (SIGKILL, start, first 200 of GET /v1/jobs/:name): ${(restart / 1000).toFixed(2)} s (target <= 5 s)`,
  );
  leader = await cluster.waitForLeader(60_000);
  out(`RSS after restart: ${rssMb(leader.proc?.pid).toFixed(0)} MB`);
  out(await hostLine(dir.path));
  figures.push({
    figure: "restart to serving",
    ours: restart / 1000,
    unit: "s",
    target: { max: 5 },
    reproduce: repro,
  });
  figures.push({
    figure: "GET /v1/jobs/:name p99 during an unpaged list",
    ours: percentile(during, 99),
    unit: "ms",
    baseline: percentile(idle, 99),
    baselineWhat: "node idle",
    reproduce: repro,
  });
  reportFigures("jobs-at-scale", figures);
} finally {
  await cluster?.stop();
  await agent.close();
  dir.cleanup();
}
