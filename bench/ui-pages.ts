/**
 * Dashboard pages at scale: N jobs created through the API on one real node process, then the server
 * time of every dashboard page an operator opens (the jobs list with each filter and sort, a deep page,
 * a job's page, the overview with its heatmap over all N jobs, the cluster page), measured by a client
 * on loopback, beside two same-run baselines: the JSON API's 25-job page (GET /v1/jobs?_start=0&_end=25)
 * and a bare Hono handler rendering a 25-row HTML table from memory.
 *
 * Run: node --import tsx bench/ui-pages.ts [jobs = 100000] [repeats = 30]
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { Hono } from "hono";
import { Agent, request } from "undici";
import { TestCluster } from "../test/helpers/cluster";
import { tempDir } from "../test/helpers/tmp";
import { benchArgs } from "./args";
import { createJobs } from "./create-jobs";
import { hostLine } from "./host";
import { type Figure, reportFigures } from "./report";
import { percentile } from "./stats";

const args = benchArgs("Usage: node --import tsx bench/ui-pages.ts [jobs = 100000] [repeats = 30]");
const N = args.int(0, "jobs", 100_000);
const REPEATS = args.int(1, "repeats", 30);
const CLIENTS = 32;
/** Runs of each first-page job before measuring (a sparkline shows the last 20). */
const HISTORY = 20;
const agent = new Agent({ connections: CLIENTS + 4, keepAliveTimeout: 60_000 });
const out = (s: string) => process.stdout.write(`${s}\n`);

/** The i-th job: schedules, zones, tags, owners and metadata of a real fleet. */
function jobBody(i: number): string {
  const schedules = ["@manually", "@every 1h", "0 */15 * * * *", "@daily", "0 30 2 * * *", "@every 5m"];
  return JSON.stringify({
    name: `job-${String(i).padStart(6, "0")}`,
    displayname: i % 3 ? `Backup ${i % 97}` : "",
    schedule: schedules[i % schedules.length],
    timezone: i % 7 === 0 ? "Europe/Berlin" : "",
    disabled: i % 10 === 9,
    owner: `team-${i % 12}`,
    tags: { role: i % 4 === 0 ? "db" : "web" },
    metadata: { team: `t${i % 20}`, env: i % 2 ? "prod" : "dev" },
    executor: "shell",
    executor_config: { command: "true" },
  });
}

async function get(url: string): Promise<{ status: number; ms: number; bytes: number }> {
  const t = performance.now();
  const res = await request(url, { dispatcher: agent });
  const body = await res.body.text();
  return { status: res.statusCode, ms: performance.now() - t, bytes: body.length };
}

async function timed(url: string, n = REPEATS): Promise<{ xs: number[]; bytes: number }> {
  const xs: number[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const r = await get(url);
    if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
    xs.push(r.ms);
    bytes = r.bytes;
  }
  return { xs, bytes };
}

async function createAll(base: string): Promise<void> {
  await createJobs({
    base,
    n: N,
    clients: CLIENTS,
    agent,
    body: jobBody,
    onDecile: (created, rate) => out(`  created ${created} jobs (${rate.toFixed(0)} jobs/s)`),
  });
}

/** A bare Hono handler rendering a 25-row table from memory over node:http: the floor for a page. */
async function honoBaseline(): Promise<{ xs: number[]; bytes: number }> {
  const rows = Array.from(
    { length: 25 },
    (_, i) => JSON.parse(jobBody(i)) as { name: string; schedule: string },
  );
  const app = new Hono().get("/ui/jobs", (c) =>
    c.html(
      `<!doctype html><table>${rows.map((r) => `<tr><td><a href="/ui/jobs/${r.name}">${r.name}</a></td><td>${r.schedule}</td></tr>`).join("")}</table>`,
    ),
  );
  const server = createServer(getRequestListener(app.fetch));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  try {
    await timed(`http://127.0.0.1:${port}/ui/jobs`, 20);
    return await timed(`http://127.0.0.1:${port}/ui/jobs`);
  } finally {
    server.close();
  }
}

const row = (label: string, r: { xs: number[]; bytes: number }, base?: number[]) => {
  const p50 = percentile(r.xs, 50);
  const p99 = percentile(r.xs, 99);
  const ratio = base ? `  ${(p50 / percentile(base, 50)).toFixed(1)}× the API page at p50` : "";
  out(
    `${label.padEnd(52)} p50 ${p50.toFixed(1).padStart(7)} ms  p99 ${p99.toFixed(1).padStart(7)} ms  ${(r.bytes / 1024).toFixed(0).padStart(4)} KiB${ratio}`,
  );
};

const dir = tempDir("dkron-ui-bench-");
let cluster: TestCluster | undefined;
try {
  out(`ui-pages: ${N} jobs on one node, ${REPEATS} repeats per page`);
  out(await hostLine(dir.path));
  const hono = await honoBaseline();
  cluster = await TestCluster.start({ size: 1, baseDir: dir.path, profile: "fast" });
  const base = (await cluster.waitForLeader(60_000)).url;
  out(`creating ${N} jobs with ${CLIENTS} clients...`);
  await createAll(base);
  // History: 20 runs of each job on the first page, so every sparkline there reads a full 20 rows
  // and the job page's history and the overview's last day have rows to read.
  out(`running each of the first page's 25 jobs ${HISTORY} times...`);
  for (let round = 0; round < HISTORY; round++)
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        request(`${base}/v1/jobs/job-${String(i).padStart(6, "0")}/run`, {
          method: "POST",
          dispatcher: agent,
        }).then((r) => r.body.text()),
      ),
    );
  await new Promise((r) => setTimeout(r, 3000));

  out("\n-- baselines (same run)");
  row("bare Hono: a 25-row HTML table from memory", hono);
  const api = await timed(`${base}/v1/jobs?_start=0&_end=25`);
  row("API: GET /v1/jobs?_start=0&_end=25 (JSON)", api);

  out(`\n-- dashboard pages at ${N} jobs (server time seen on loopback)`);
  const firstOverview = await get(`${base}/ui`);
  out(
    `${"overview, first (heatmap over every firing job)".padEnd(52)} ${firstOverview.ms.toFixed(1).padStart(11)} ms  ${(firstOverview.bytes / 1024).toFixed(0).padStart(4)} KiB`,
  );
  const pages: [string, string][] = [
    ["jobs: first page", "/ui/jobs"],
    ["jobs: sort by next run", "/ui/jobs?sort=next"],
    ["jobs: sort by errors, descending", "/ui/jobs?sort=error_count&order=DESC"],
    ["jobs: status=untriggered", "/ui/jobs?status=untriggered"],
    ["jobs: disabled=true", "/ui/jobs?disabled=true"],
    ["jobs: owner=team-3", "/ui/jobs?owner=team-3"],
    ["jobs: tag role=db", "/ui/jobs?tag=role%3Ddb"],
    ["jobs: metadata team=t7", "/ui/jobs?meta=team%3Dt7"],
    ["jobs: search q=Backup 42", "/ui/jobs?q=Backup%2042"],
    ["jobs: page 2000 (deep)", "/ui/jobs?page=2000"],
    ["job page (definition, next 10 runs, history)", "/ui/jobs/job-000001"],
    ["overview (cached figures)", "/ui"],
    ["cluster", "/ui/cluster"],
    ["new-job form", "/ui/jobs/new"],
  ];
  const figures: Figure[] = [];
  for (const [label, path] of pages) {
    const r = await timed(`${base}${path}`);
    row(label, r, api.xs);
    figures.push({
      figure: `${label}, p99 at ${N} jobs`,
      ours: percentile(r.xs, 99),
      unit: "ms",
      baseline: percentile(api.xs, 99),
      baselineWhat: "API page",
      target: { max: 100 },
      reproduce: `node --import tsx bench/ui-pages.ts ${N}`,
    });
  }
  reportFigures("ui-pages", figures);
} finally {
  await cluster?.stop();
  await agent.close();
  dir.cleanup();
}
