import { afterEach, describe, expect, it } from "vitest";
import { type AgentProcess, startAgent, waitFor } from "../helpers/agent-process";
import { tempDir } from "../helpers/tmp";

interface Exec {
  id: string;
  scheduled_at: string;
  state: string;
  success: boolean;
  output: string;
  trigger: string;
}

const running: AgentProcess[] = [];
const dirs: (() => void)[] = [];
afterEach(async () => {
  for (const a of running.splice(0)) {
    if (a.proc.exitCode === null && a.proc.signalCode === null) a.proc.kill("SIGKILL");
    await a.exited;
  }
  for (const d of dirs.splice(0)) d();
});

async function agent(dataDir: string, extra: string[] = []): Promise<AgentProcess> {
  const a = await startAgent([
    "--bootstrap-expect",
    "1",
    "--data-dir",
    dataDir,
    "--node-name",
    "n1",
    "--shutdown-grace",
    "5s",
    // This suite is about running jobs; tokens are tested in test/integration/auth.test.ts.
    "--insecure-no-auth",
    ...extra,
  ]);
  running.push(a);
  return a;
}

async function executions(url: string, job: string): Promise<Exec[]> {
  const r = await fetch(`${url}/v1/jobs/${job}/executions`);
  expect(r.status).toBe(200);
  return (await r.json()) as Exec[];
}

function post(url: string, body: unknown, path = "/v1/jobs") {
  return fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("dkron agent (real process, real SQLite, real local runner)", () => {
  it("runs an @every 1s job, rejects bad jobs, and survives kill -9 with no slot run twice", async () => {
    const dir = tempDir();
    dirs.push(dir.cleanup);
    const a = await agent(dir.path);

    const created = await post(a.url, {
      name: "hi",
      schedule: "@every 1s",
      executor: "shell",
      executor_config: { command: "echo hi" },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe("/v1/jobs/hi");

    const ok = await waitFor("two successful executions", async () => {
      const ex = (await executions(a.url, "hi")).filter((e) => e.success);
      return ex.length >= 2 ? ex : undefined;
    });
    expect(ok[0]!.output).toBe("hi\n");

    // Bad input: 4xx naming the problem, and nothing stored.
    const cases: [unknown, number, string][] = [
      [
        { name: "bad1", schedule: "61 * * * * *", executor: "shell", executor_config: { command: "true" } },
        400,
        "schedule",
      ],
      [{ name: "bad2", schedule: "@every 1s", executor: "kafka", executor_config: {} }, 400, "executor"],
      ['{"name": "bad3", ', 400, "body"],
      [
        { name: "Bad Name", schedule: "@every 1s", executor: "shell", executor_config: { command: "true" } },
        400,
        "name",
      ],
    ];
    for (const [body, status, field] of cases) {
      const r = await post(a.url, body);
      expect(r.status).toBe(status);
      const err = (await r.json()) as { error: { code: string; message: string; field: string } };
      expect(err.error.field).toBe(field);
      expect(err.error.message.length).toBeGreaterThan(5);
    }
    const list = (await (await fetch(`${a.url}/v1/jobs`)).json()) as { name: string }[];
    expect(list.map((j) => j.name)).toEqual(["hi"]);

    // Crash: kill -9, restart on the same data dir.
    const before = await executions(a.url, "hi");
    a.proc.kill("SIGKILL");
    await a.exited;
    const b = await agent(dir.path);
    const job = (await (await fetch(`${b.url}/v1/jobs/hi`)).json()) as {
      name: string;
      success_count: number;
    };
    expect(job.name).toBe("hi");
    const after = await waitFor("runs after the restart", async () => {
      const ex = await executions(b.url, "hi");
      const newer = ex.filter((e) => e.success && !before.some((x) => x.id === e.id));
      return newer.length >= 2 ? ex : undefined;
    });
    // Every finished execution from before the crash is still there.
    for (const e of before.filter((x) => x.state !== "running"))
      expect(after.some((x) => x.id === e.id)).toBe(true);
    // No slot ran twice.
    const slots = after.filter((e) => e.state !== "missed").map((e) => e.scheduled_at);
    expect(new Set(slots).size).toBe(slots.length);
    // Slots missed while the process was down are recorded, not dropped: every second is accounted for.
    const seconds = after.map((e) => Date.parse(e.scheduled_at) / 1000).sort((x, y) => x - y);
    for (let i = 1; i < seconds.length; i++) expect(seconds[i]! - seconds[i - 1]!).toBe(1);
  }, 60_000);

  it("SIGTERM lets a running execution finish, then exits 0", async () => {
    const dir = tempDir();
    dirs.push(dir.cleanup);
    const a = await agent(dir.path);
    await post(a.url, {
      name: "slow",
      schedule: "@manually",
      executor: "shell",
      executor_config: { command: "sleep 1; echo done", shell: "true" },
    });
    expect((await post(a.url, {}, "/v1/jobs/slow/run")).status).toBe(200);
    await waitFor("the run to be busy", async () => {
      const busy = (await (await fetch(`${a.url}/v1/busy`)).json()) as unknown[];
      return busy.length === 1 ? true : undefined;
    });
    a.proc.kill("SIGTERM");
    expect(await a.exited).toBe(0);
    const b = await agent(dir.path);
    const ex = await executions(b.url, "slow");
    expect(ex).toHaveLength(1);
    expect(ex[0]!.state).toBe("success");
    expect(ex[0]!.output).toBe("done\n");
  }, 60_000);

  it("streams output live into /v1/busy", async () => {
    const dir = tempDir();
    dirs.push(dir.cleanup);
    const a = await agent(dir.path);
    await post(a.url, {
      name: "stream",
      schedule: "@manually",
      executor: "shell",
      executor_config: { command: "echo first; sleep 2; echo second", shell: "true" },
    });
    await post(a.url, {}, "/v1/jobs/stream/run");
    const live = await waitFor("first chunk while running", async () => {
      const busy = (await (await fetch(`${a.url}/v1/busy`)).json()) as Exec[];
      return busy[0]?.output.includes("first") ? busy[0] : undefined;
    });
    expect(live.output).not.toContain("second");
    const done = await waitFor("the final result", async () => {
      const ex = await executions(a.url, "stream");
      return ex[0]?.state === "success" ? ex[0] : undefined;
    });
    expect(done.output).toBe("first\nsecond\n");
  }, 60_000);

  it("shows when each run was dispatched and started, the job's lateness and drift, and the slots forbid skipped", async () => {
    const dir = tempDir();
    dirs.push(dir.cleanup);
    const a = await agent(dir.path);
    // Each run takes 1.5 s of a 1 s cadence: under forbid every other slot is skipped.
    await post(a.url, {
      name: "slow",
      schedule: "@every 1s",
      concurrency: "forbid",
      executor: "shell",
      executor_config: { command: "sleep 1.5" },
    });
    type Timed = Exec & {
      attempt: number;
      started_at: string;
      dispatched_at: string;
      start_lateness_ms: number | null;
    };
    // While it runs, the start its runner reported is already there.
    const running = await waitFor("a run that has started", async () => {
      const busy = (await (await fetch(`${a.url}/v1/busy`)).json()) as Timed[];
      return busy[0]?.start_lateness_ms !== null && busy[0] ? busy[0] : undefined;
    });
    expect(Date.parse(running.dispatched_at)).toBeGreaterThanOrEqual(Date.parse(running.scheduled_at));
    expect(Date.parse(running.started_at)).toBeGreaterThanOrEqual(Date.parse(running.dispatched_at));
    expect(running.start_lateness_ms).toBe(Date.parse(running.started_at) - Date.parse(running.scheduled_at));

    type JobFigures = {
      skipped_count: number;
      last_skipped: string | null;
      lateness: { samples: number; p50_ms: number; p99_ms: number; max_ms: number } | null;
      drift: { configured_ms: number; effective_ms: number; samples: number } | null;
    };
    await waitFor("three finished runs", async () => {
      const j = (await (await fetch(`${a.url}/v1/jobs/slow`)).json()) as JobFigures;
      return (j.lateness?.samples ?? 0) >= 3 ? j : undefined;
    });
    // Stop the job and let its last run end, so the figures and the history are read at rest.
    await post(a.url, {}, "/v1/jobs/slow/toggle");
    await waitFor("no run going", async () => {
      const busy = (await (await fetch(`${a.url}/v1/busy`)).json()) as Timed[];
      return busy.length === 0 ? true : undefined;
    });
    const job = (await (await fetch(`${a.url}/v1/jobs/slow`)).json()) as JobFigures;
    const runs = ((await executions(a.url, "slow")) as Timed[])
      .filter((e) => e.trigger === "schedule" && e.attempt === 1 && e.start_lateness_ms !== null)
      .sort((x, y) => Date.parse(x.scheduled_at) - Date.parse(y.scheduled_at));
    // The job's figures are the history's: every sample counted, each percentile one of them.
    const late = runs.map((e) => e.start_lateness_ms!);
    expect(job.lateness!.samples).toBe(runs.length);
    expect(job.lateness!.max_ms).toBe(Math.max(...late));
    expect(late).toContain(job.lateness!.p50_ms);
    expect(late).toContain(job.lateness!.p99_ms);
    expect(job.lateness!.p50_ms).toBeLessThanOrEqual(job.lateness!.p99_ms);
    expect(job.lateness!.p99_ms).toBeLessThanOrEqual(job.lateness!.max_ms);
    expect(job.skipped_count).toBeGreaterThanOrEqual(2);
    expect(job.last_skipped).not.toBeNull();
    // Forbid never starts the slot after a 1.5 s run: started slots are at least 2 s apart.
    for (let i = 1; i < runs.length; i++) {
      expect(
        Date.parse(runs[i]!.scheduled_at) - Date.parse(runs[i - 1]!.scheduled_at),
      ).toBeGreaterThanOrEqual(2000);
    }
    // Drift is the mean interval between the runs' actual starts, against the configured 1 s.
    const starts = runs.map((e) => Date.parse(e.started_at));
    expect(job.drift).toEqual({
      configured_ms: 1000,
      effective_ms: Math.round((starts.at(-1)! - starts[0]!) / (starts.length - 1)),
      samples: starts.length - 1,
    });
  }, 60_000);
});
