/**
 * Bursts: many jobs due at the same instant, through one real `dkron agent` (scheduler → commit →
 * WebSocket → runner → executor). Three cases, each beside a bare baseline measured in the same run:
 *
 * - `http`: N http jobs `@at T` (default 1,000) calling a server in this process; lateness is when the
 *   request arrived minus T (the executor sends the slot in X-Dkron-Scheduled-At). Baseline: a bare
 *   setTimeout to a second then N fetches to the same server.
 * - `shell`: M shell jobs `@at T` (default 200) printing the wall clock; baseline: M bare spawns.
 * - `every`: K jobs `@every 1s` (default 100) for S seconds; baseline: K spawns every second.
 *
 * Run: node --import tsx bench/burst.ts [http jobs = 1000] [shell jobs = 200] [every jobs = 100] [seconds = 10]
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent, request } from "undici";
import { adminTokenOf, startAgent } from "../test/helpers/agent-process";
import { tempDir } from "../test/helpers/tmp";
import { benchArgs } from "./args";
import { hostLine } from "./host";
import { type Figure, reportFigures } from "./report";
import { percentile, summary } from "./stats";

const args = benchArgs(
  "Usage: node --import tsx bench/burst.ts [http jobs = 1000] [shell jobs = 200] [every jobs = 100] [seconds = 10]\n" +
    "Writes the figures as JSON to $BENCH_JSON when set.",
);
const httpJobs = args.int(0, "http jobs", 1000);
const shellJobs = args.int(1, "shell jobs", 200);
const everyJobs = args.int(2, "every jobs", 100);
const seconds = args.int(3, "seconds", 10);
const COMMAND = 'echo "$(date +%s%N) $DKRON_SCHEDULED_AT"';

/** Wall clock in ms with sub-ms precision. */
const wall = () => performance.timeOrigin + performance.now();

/** A local server recording when each request arrived and the slot it was for. */
async function hitServer(): Promise<{
  url: string;
  hits: { at: number; slot: number }[];
  close: () => void;
}> {
  const hits: { at: number; slot: number }[] = [];
  const server = createServer((req, res) => {
    const at = wall();
    const slot = req.headers["x-dkron-scheduled-at"];
    const q = req.url?.indexOf("slot=") ?? -1;
    const s =
      typeof slot === "string" ? Date.parse(slot) : q >= 0 ? Number(req.url!.slice(q + 5)) : Number.NaN;
    hits.push({ at, slot: s });
    res.end("ok");
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits, close: () => server.close() };
}

const nextSecond = (marginMs: number) => Math.ceil((Date.now() + marginMs) / 1000) * 1000;
const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

/** Bare baseline: setTimeout to a second, then n requests at once (a pooled client, like the executor). */
async function httpBaseline(url: string, n: number, hits: { at: number; slot: number }[]): Promise<number[]> {
  hits.length = 0;
  const pool = new Agent();
  const slot = nextSecond(300);
  await sleepUntil(slot);
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      request(`${url}/base/${i}?slot=${slot}`, { dispatcher: pool }).then((r) => r.body.text()),
    ),
  );
  await pool.close();
  return hits.map((h) => h.at - h.slot);
}

/** Bare baseline: setTimeout to a second, then n `sh -c` spawns, for `rounds` seconds. */
async function spawnBaseline(n: number, rounds: number): Promise<number[]> {
  const delays: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const slot = nextSecond(50);
    await sleepUntil(slot);
    const outs = await Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise<string>((resolve) => {
            let s = "";
            const p = spawn("/bin/sh", ["-c", COMMAND], {
              env: { ...process.env, DKRON_SCHEDULED_AT: new Date(slot).toISOString() },
            });
            p.stdout.on("data", (d) => {
              s += d;
            });
            p.on("close", () => resolve(s));
          }),
      ),
    );
    for (const out of outs) delays.push(Number(out.split(" ")[0]) / 1e6 - slot);
  }
  return delays;
}

async function main() {
  const dir = tempDir("dkron-burst-");
  const hit = await hitServer();
  // BURST_PROFILE=<dir>: the agent writes a CPU profile there (stopped with SIGTERM so it is written).
  const profile = process.env.BURST_PROFILE;
  const agent = await startAgent(
    ["--bootstrap-expect", "1", "--data-dir", dir.path, "--node-name", "bench", "--log-level", "warn"],
    {},
    profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : [],
  );
  // BURST_CASES=http,shell,every: which cases run (all by default).
  const cases = new Set((process.env.BURST_CASES ?? "http,shell,every").split(","));
  const api = new Agent({ connections: 16 });
  const auth = { authorization: `Bearer ${await adminTokenOf(dir.path)}` };
  const post = async (body: unknown) => {
    const r = await request(`${agent.url}/v1/jobs`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify(body),
      dispatcher: api,
    });
    const text = await r.body.text();
    if (r.statusCode !== 201) throw new Error(`create failed: ${r.statusCode} ${text}`);
  };
  const getJson = async <T>(path: string): Promise<T> => {
    const r = await request(`${agent.url}${path}`, { headers: auth, dispatcher: api });
    return (await r.body.json()) as T;
  };
  const createAll = async (n: number, body: (i: number) => unknown) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < n) await post(body(next++));
      }),
    );
  };
  /** Lateness of each run of the named jobs, from their outputs (shell jobs print the wall clock). */
  const shellDelays = async (names: string[], from = 0, until = Number.POSITIVE_INFINITY) => {
    const out: number[] = [];
    for (const name of names) {
      const ex = await getJson<{ output: string; state: string }[]>(`/v1/jobs/${name}/executions`);
      for (const e of ex) {
        if (e.state !== "success") continue;
        const [ns, slot] = e.output.trim().split(" ");
        const at = Date.parse(slot!);
        if (at >= from && at <= until) out.push(Number(ns) / 1e6 - at);
      }
    }
    return out;
  };
  const rows: { figure: string; ours: number; baseline: number; target: string; n: number; what: string }[] =
    [];
  /** The http case's starts as the executions record them (the runner's start of each run). */
  const startRows: { within: number; of: number; p99: number; max: number }[] = [];
  const report = (figure: string, ours: number[], base: number[], target: string, what: string) => {
    console.log(summary(`  baseline`, base));
    console.log(summary(`  dkron agent`, ours));
    rows.push({
      figure,
      ours: percentile(ours, 99),
      baseline: percentile(base, 99),
      target,
      n: ours.length,
      what,
    });
  };
  /** Requests that reached the server within their second, ours and the bare baseline's. */
  const arrivals: { ours: number; baseline: number; of: number }[] = [];
  try {
    console.log(await hostLine(dir.path));

    // ---- 1. N http jobs due at the same second ----
    if (cases.has("http")) {
      const baseHttp = await httpBaseline(hit.url, httpJobs, hit.hits);
      const slotA = nextSecond(Math.max(6000, httpJobs * 25));
      await createAll(httpJobs, (i) => ({
        name: `burst-http-${i}`,
        schedule: `@at ${new Date(slotA).toISOString()}`,
        executor: "http",
        executor_config: { url: `${hit.url}/job/${i}`, method: "GET" },
      }));
      if (Date.now() > slotA - 500)
        throw new Error("creating the http jobs took longer than the margin (host too busy); run again");
      hit.hits.length = 0;
      await sleepUntil(slotA + 3000 + httpJobs * 2);
      const ours = hit.hits.map((h) => h.at - h.slot);
      console.log(`\n${httpJobs} http jobs due at the same second (request arrival − slot)`);
      report(
        `${httpJobs} http jobs due at once, p99 lateness`,
        ours,
        baseHttp,
        "≤ 1.25× and < 1000 ms",
        "setTimeout + fetches",
      );
      const within = ours.filter((d) => d < 1000).length;
      arrivals.push({ ours: within, baseline: baseHttp.filter((d) => d < 1000).length, of: httpJobs });
      console.log(`  requests arrived within the second: ${within} of ${httpJobs} (arrived: ${ours.length})`);
      // The start as the execution records it (the runner's start of the run, before its request):
      // what the API and the dashboard show as start_lateness_ms.
      const started: number[] = [];
      for (let i = 0; i < httpJobs; i += 50) {
        const lists = await Promise.all(
          Array.from({ length: Math.min(50, httpJobs - i) }, (_, k) =>
            getJson<{ start_lateness_ms: number | null }[]>(`/v1/jobs/burst-http-${i + k}/executions`),
          ),
        );
        for (const l of lists)
          for (const e of l) if (e.start_lateness_ms !== null) started.push(e.start_lateness_ms);
      }
      const startedWithin = started.filter((d) => d < 1000).length;
      console.log(
        `  runs started within the second (execution records, start_lateness_ms): ${startedWithin} of ${httpJobs}; p50 ${percentile(started, 50).toFixed(0)} ms, p99 ${percentile(started, 99).toFixed(0)} ms, max ${Math.max(...started).toFixed(0)} ms`,
      );
      startRows.push({
        within: startedWithin,
        of: httpJobs,
        p99: percentile(started, 99),
        max: Math.max(...started),
      });
    }
    // ---- 2. M shell jobs due at once ----
    if (cases.has("shell")) {
      const baseShell = await spawnBaseline(shellJobs, 1);
      const slotB = nextSecond(Math.max(4000, shellJobs * 25));
      const shellNames = Array.from({ length: shellJobs }, (_, i) => `burst-sh-${i}`);
      await createAll(shellJobs, (i) => ({
        name: shellNames[i],
        schedule: `@at ${new Date(slotB).toISOString()}`,
        executor: "shell",
        executor_config: { command: COMMAND, shell: "true" },
      }));
      await sleepUntil(slotB + 3000 + shellJobs * 10);
      const oursShell = await shellDelays(shellNames);
      console.log(`\n${shellJobs} shell jobs due at once (process running − slot)`);
      report(
        `${shellJobs} shell jobs due at once, p99 lateness`,
        oursShell,
        baseShell,
        "≤ 1.25×",
        "bare spawns",
      );
    }
    // ---- 3. K jobs @every 1s ----
    if (cases.has("every")) {
      const everyNames = Array.from({ length: everyJobs }, (_, i) => `every-${i}`);
      await createAll(everyJobs, (i) => ({
        name: everyNames[i],
        schedule: "@every 1s",
        executor: "shell",
        executor_config: { command: COMMAND, shell: "true" },
      }));
      // The slots measured: the same seconds as the baseline's (the runs after them are not counted).
      const from = nextSecond(50);
      const baseEvery = spawnBaseline(everyJobs, seconds);
      await sleepUntil(from + seconds * 1000 + 2000);
      for (const name of everyNames) {
        const r = await request(`${agent.url}/v1/jobs/${name}/toggle`, {
          method: "POST",
          headers: auth,
          dispatcher: api,
        });
        await r.body.text();
      }
      const oursEvery = await shellDelays(everyNames, from, from + (seconds - 1) * 1000);
      console.log(`\n${everyJobs} jobs @every 1s for ${seconds} s (process running − slot)`);
      report(
        `${everyJobs} jobs @every 1s, p99 lateness`,
        oursEvery,
        await baseEvery,
        "≤ 1.25×",
        "bare spawns each second",
      );
    }
    console.log(await hostLine(dir.path));

    const reproduce = `node --import tsx bench/burst.ts ${httpJobs} ${shellJobs} ${everyJobs} ${seconds}`;
    console.log("");
    const figures: Figure[] = rows.map((r) => ({
      figure: r.figure,
      ours: r.ours,
      unit: "ms",
      baseline: r.baseline,
      baselineWhat: r.what,
      target: { maxRatio: 1.25 },
      reproduce,
    }));
    for (const r of startRows)
      figures.push(
        {
          figure: `http runs started within their second (execution records), of ${r.of}`,
          ours: r.within,
          unit: "runs",
          target: { min: r.of },
          reproduce,
        },
        {
          figure: "http runs' start lateness (execution records), max",
          ours: r.max,
          unit: "ms",
          target: { max: 1000 },
          reproduce,
        },
      );
    // Requests reach the server after the run started (a fresh connection each): on this host even
    // the bare baseline's arrive late, so this line has no target; the starts above have one.
    for (const a of arrivals)
      figures.push({
        figure: `http requests that reached the server within their second, of ${a.of}`,
        ours: a.ours,
        unit: "requests",
        baseline: a.baseline,
        baselineWhat: "setTimeout + fetches",
        reproduce,
      });
    reportFigures("burst", figures);
    if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(rows, null, 2));
  } finally {
    // What the agent warned about (it logs at warn): a run whose n falls short, or whose requests
    // never arrived, usually shows why here (a runner that reconnected, a lease that expired).
    const warnings = new Map<string, number>();
    for (const line of agent.output().split("\n")) {
      if (!line.startsWith("{")) continue;
      try {
        const l = JSON.parse(line) as { level?: string; msg?: string };
        if (l.level === "warn" || l.level === "error")
          warnings.set(`${l.level}: ${l.msg}`, (warnings.get(`${l.level}: ${l.msg}`) ?? 0) + 1);
      } catch {}
    }
    if (warnings.size) {
      console.log("\nagent warnings (count: message)");
      for (const [msg, n] of warnings) console.log(`  ${n}: ${msg}`);
    }
    await api.close();
    hit.close();
    if (profile) {
      agent.proc.kill("SIGTERM");
      await Promise.race([agent.exited, new Promise((r) => setTimeout(r, 10_000))]);
    }
    await agent.kill();
    dir.cleanup();
  }
}

await main();
