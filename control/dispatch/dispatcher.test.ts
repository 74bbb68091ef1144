import { EventEmitter } from "node:events";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type WebSocket from "ws";
import { RunnerAgent } from "../../runner/agent";
import { createExecutors } from "../../runner/executors";
import { systemClock } from "../../shared/clock";
import { silentLogger } from "../../shared/logger";
import { decodeRunnerFrame, encodeFrame, type Result, type RunnerMessage } from "../../shared/wire";
import { finishExecution, T0 } from "../../test/helpers/builders";
import { ControlHarness, type HarnessOptions } from "../../test/helpers/control-harness";
import { tempDir } from "../../test/helpers/tmp";
import { RunnerSessions } from "../hub/runner-sessions";
import { owedRuns } from "../store/owed-run-queries";
import { retryBackoffMs } from "./backoff";

const harnesses: ControlHarness[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
  for (const c of cleanups.splice(0)) c();
});

/** A harness without the scheduler: runs start only when a test asks. */
async function harness(opts: HarnessOptions = {}): Promise<ControlHarness> {
  const h = await ControlHarness.start({ scheduler: false, ...opts });
  harnesses.push(h);
  return h;
}

/** Starts a manual run of `job` now and returns the ids of its executions. */
async function runNow(h: ControlHarness, job = "job"): Promise<string[]> {
  const res = await h.dispatcher.run(job, "manual", h.clock.now());
  if (!res.ok) throw new Error(`run rejected: ${res.error.message}`);
  if (!("executions" in res.value)) throw new Error(`run skipped: ${res.value.skipped}`);
  await h.settle();
  return res.value.executions.map((e) => e.id);
}

describe("Dispatcher: one run", () => {
  it("sends run to every target after the start is committed and acknowledges each committed result", async () => {
    const h = await harness({ runners: ["r1", "r2"] });
    await h.put({ schedule: "@manually", executor_config: { command: "echo hi" } });
    const ids = await runNow(h);
    expect(h.hub.runs().map((r) => [r.runner, r.execution_id])).toEqual([
      ["r1", ids[0]],
      ["r2", ids[1]],
    ]);
    expect(h.hub.runs()[0]).toMatchObject({
      job_name: "job",
      attempt: 1,
      executor: "shell",
      config: { command: "echo hi" },
      scheduled_at: new Date(T0).toISOString(),
    });
    expect(h.executions().map((e) => e.state)).toEqual(["running", "running"]);
    expect(h.dispatcher.busy().map((e) => e.id)).toEqual(ids);

    await h.finish(ids[0]!);
    expect(h.job()?.status).toBe("");
    await h.finish(ids[1]!, { success: false, exit_code: 2, error: "exit status 2" });
    expect(h.hub.acks()).toEqual(ids);
    expect(h.job()).toMatchObject({ status: "partially_failed", successCount: 1, errorCount: 1 });
    const failed = h.executions().find((e) => e.id === ids[1]);
    expect(failed).toMatchObject({ state: "failed", exit_code: 2, output: "exit status 2\nboom\n" });
    expect(h.dispatcher.busy()).toEqual([]);
  });

  it("targets only runners whose tags match, as many as the count asks", async () => {
    const h = await harness({ runners: [] });
    h.hub.connect("a", { role: "web" });
    h.hub.connect("b", { role: "web" });
    h.hub.connect("c", { role: "db" });
    await h.put({ schedule: "@manually", tags: { role: "web:1" } });
    await runNow(h);
    expect(h.hub.runs().map((r) => r.runner)).toEqual(["a"]);
  });

  it("keeps live output of a running execution for busy() and drops it with the result", async () => {
    const h = await harness();
    await h.put({ schedule: "@manually" });
    const [id] = await runNow(h);
    h.dispatcher.onOutput("r1", { type: "output", execution_id: id!, seq: 0, data: "a" });
    h.dispatcher.onOutput("r1", { type: "output", execution_id: id!, seq: 1, data: "b" });
    h.dispatcher.onOutput("r1", { type: "output", execution_id: id!, seq: 1, data: "b" });
    expect(h.dispatcher.busy()[0]?.output).toBe("ab");
    await h.finish(id!, { output: "ab" });
    expect(h.dispatcher.live.get(id!)).toBe("");
    expect(h.executions()[0]?.output).toBe("ab");
  });

  it("counts a result reported twice once and acknowledges both; acknowledges results it does not know", async () => {
    const h = await harness();
    await h.put({ schedule: "@manually" });
    const [id] = await runNow(h);
    await h.finish(id!);
    await h.finish(id!);
    await h.finish("gone-1-r1");
    expect(h.hub.acks()).toEqual([id, id, "gone-1-r1"]);
    expect(h.job()).toMatchObject({ successCount: 1, errorCount: 0 });
  });

  it("keeps the configured number of executions per job, oldest removed first", async () => {
    const h = await harness({ dispatcher: { retain: 3 } });
    await h.put({ schedule: "@manually" });
    await h.put({ name: "job-2", schedule: "@manually" });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const [id] = await runNow(h);
      ids.push(id!);
      await h.finish(id!);
      await h.advance(1000);
    }
    await runNow(h, "job-2");
    expect(h.executions().map((e) => e.id)).toEqual(ids.slice(2));
    expect(h.executions("job-2")).toHaveLength(1);
  });

  it("records a run with no target as a failed execution that says why", async () => {
    const h = await harness({ runners: [] });
    await h.put({ schedule: "@manually" });
    await runNow(h);
    expect(h.executions()).toMatchObject([{ state: "failed", node_name: "" }]);
    expect(h.executions()[0]?.output).toMatch(/no target nodes found to run job job/);
    expect(h.job()).toMatchObject({ status: "failed", errorCount: 1 });
  });

  it("with retries and no target, retries and then settles the group as failed", async () => {
    const h = await harness({ runners: [] });
    await h.put({ schedule: "@manually", retries: 2 });
    await runNow(h);
    await h.advance(1000, 100);
    expect(h.executions().map((e) => [e.attempt, e.state])).toEqual([
      [1, "failed"],
      [2, "failed"],
      [3, "failed"],
    ]);
    expect(h.job()).toMatchObject({ status: "failed", errorCount: 3 });
  });
});

describe("Dispatcher: output kept", () => {
  it("keeps the last 256,000 bytes of a result a runner did not trim, saying how many were dropped", async () => {
    const h = await harness();
    await h.put({ schedule: "@manually" });
    const [id] = await runNow(h);
    await h.finish(id!, { output: `${"a".repeat(100_000)}${"z".repeat(256_000)}` });
    const out = h.executions()[0]!.output;
    expect(out).toBe(`[dkron: 100000 bytes of output dropped]\n${"z".repeat(256_000)}`);
  });

  it("a 1 MB output through a real runner is stored as its 256,000-byte tail after one note with every byte dropped", async () => {
    const h = await harness();
    await h.put({ schedule: "@manually" });
    const [id] = await runNow(h);
    // The real agent and shell executor, over a socket that hands the frames to this test.
    const frames: RunnerMessage[] = [];
    const socket = Object.assign(new EventEmitter(), {
      readyState: 1,
      bufferedAmount: 0,
      send(d: string) {
        const f = decodeRunnerFrame(d);
        if (f.ok) frames.push(f.msg);
      },
      close() {},
      terminate() {},
    });
    const agent = new RunnerAgent({
      url: "ws://control/_runner/ws",
      token: "t",
      name: "r1",
      tags: {},
      executors: createExecutors(),
      clock: systemClock,
      logger: silentLogger,
      webSocket: () => socket as unknown as WebSocket,
      random: () => 0,
    });
    const ready = agent.start();
    socket.emit("open");
    socket.emit("message", encodeFrame({ type: "welcome", node: "c1", unknown: [], heartbeat_ms: 60_000 }));
    await ready;
    // 100,000 lines of "abcdefghi\n": 1,000,000 bytes.
    socket.emit(
      "message",
      encodeFrame({
        ...h.hub.runs()[0]!,
        config: { command: "yes abcdefghi | head -c 1000000", shell: "true" },
      }),
    );
    const result = await vi.waitFor(
      () => {
        const r = frames.find((f) => f.type === "result");
        if (!r) throw new Error("no result yet");
        return r as Result;
      },
      { timeout: 20_000, interval: 20 },
    );
    await agent.stop(0);
    expect(result.dropped_bytes).toBe(744_000);
    h.dispatcher.onResult("r1", result);
    await h.settle();
    const out = h.executions()[0]!.output;
    expect(out).toBe(`[dkron: 744000 bytes of output dropped]\n${"abcdefghi\n".repeat(25_600)}`);
    expect(h.executions()[0]).toMatchObject({ id, state: "success" });
  });
});

describe("Dispatcher: retries (Dkron's back-off)", () => {
  it("retries a failed run on the same runner after floor(log2(elapsed/500ms) + attempt) * 500ms", async () => {
    const h = await harness();
    await h.put({ schedule: "@manually", retries: 2 });
    const [first] = await runNow(h);
    await h.advance(2000);
    await h.finish(first!, { success: false, started_at: T0, finished_at: T0 + 2000 });

    const wait1 = retryBackoffMs(2000, 1);
    expect(wait1).toBe(1500);
    await h.advance(wait1 - 100, 50);
    expect(h.hub.runs()).toHaveLength(1);
    await h.advance(150, 50);
    const second = h.hub.runs()[1]!;
    expect(second).toMatchObject({ runner: "r1", attempt: 2 });

    const started = h.clock.now();
    await h.advance(4000);
    await h.finish(second.execution_id, { success: false, started_at: started, finished_at: started + 4000 });
    const wait2 = retryBackoffMs(4000, 2);
    expect(wait2).toBe(2500);
    await h.advance(wait2 - 100, 50);
    expect(h.hub.runs()).toHaveLength(2);
    await h.advance(150, 50);
    const third = h.hub.runs()[2]!;
    expect(third).toMatchObject({ runner: "r1", attempt: 3 });
    expect(h.job()?.status).toBe("");

    await h.finish(third.execution_id);
    const runs = h.executions();
    expect(runs.map((e) => [e.attempt, e.trigger, e.state])).toEqual([
      [1, "manual", "failed"],
      [2, "retry", "failed"],
      [3, "retry", "success"],
    ]);
    expect(new Set(runs.map((e) => e.group)).size).toBe(1);
    expect(new Set(runs.map((e) => e.scheduled_at))).toEqual(new Set([T0]));
    expect(h.job()).toMatchObject({ status: "success", successCount: 1, errorCount: 2 });
  });

  it("stops after `retries` retries: the group fails and dependent jobs do not run", async () => {
    const h = await harness();
    await h.put({ schedule: "@manually", retries: 1 });
    await h.put({ name: "child", parent_job: "job", schedule: "" });
    const [first] = await runNow(h);
    await h.finish(first!, { success: false });
    await h.advance(1000, 100);
    const second = h.hub.runs()[1]!;
    await h.finish(second.execution_id, { success: false });
    await h.advance(60_000);
    expect(h.hub.runs()).toHaveLength(2);
    expect(h.job()).toMatchObject({ status: "failed", errorCount: 2 });
    expect(h.executions("child")).toEqual([]);
  });

  it("retries on another matching runner when the first is gone, and the group settles", async () => {
    const h = await harness({ runners: [] });
    h.hub.connect("r1", { pool: "a" });
    h.hub.connect("r2", { pool: "a" });
    await h.put({ schedule: "@manually", retries: 1, tags: { pool: "a:1" } });
    await h.put({ name: "child", parent_job: "job", schedule: "" });
    const [first] = await runNow(h);
    expect(h.hub.runs()[0]?.runner).toBe("r1");
    h.hub.disconnect("r1");
    await h.finish(first!, { success: false });
    await h.advance(1000, 100);
    const retry = h.hub.runs()[1]!;
    expect(retry).toMatchObject({ runner: "r2", attempt: 2 });
    await h.finish(retry.execution_id);
    expect(h.job()?.status).toBe("success");
    expect(h.hub.runs().at(-1)).toMatchObject({ job_name: "child", runner: "r2" });
  });

  it("retries two failed targets when both retries land on the same runner", async () => {
    const h = await harness({ runners: ["r1", "r2"] });
    await h.put({ schedule: "@manually", retries: 1 });
    const [a, b] = await runNow(h);
    h.hub.disconnect("r1");
    await h.finish(b!, { success: false });
    await h.finish(a!, { success: false });
    await h.advance(1000, 100);
    const retries = h.hub.runs().slice(2);
    expect(retries.map((r) => [r.runner, r.attempt])).toEqual([
      ["r2", 2],
      ["r2", 2],
    ]);
    expect(new Set(retries.map((r) => r.execution_id)).size).toBe(2);
    for (const r of retries) await h.finish(r.execution_id);
    expect(h.executions().filter((e) => e.attempt === 2)).toHaveLength(2);
    expect(h.job()).toMatchObject({ status: "success", successCount: 2, errorCount: 2 });
  });

  it("a retry waiting out its back-off when the node restarts is started by the next leader", async () => {
    const dir = tempDir("dkron-dispatch-");
    cleanups.push(dir.cleanup);
    const file = join(dir.path, "state.db");
    const h1 = await ControlHarness.start({ file, scheduler: false, dispatcher: { leaseMs: 120_000 } });
    await h1.put({ schedule: "@manually", retries: 1 });
    const [first] = await runNow(h1);
    await h1.advance(60_000, 5000);
    await h1.finish(first!, { success: false, started_at: T0, finished_at: T0 + 60_000 });
    await h1.close();

    const h2 = await harness({ file, start: T0 + 61_000 });
    // The rest of the back-off has passed, but runners get a few seconds to reconnect first.
    expect(retryBackoffMs(60_000, 1)).toBeLessThan(4000);
    await h2.advance(4000, 100);
    expect(h2.hub.runs()).toEqual([]);
    await h2.advance(1500, 100);
    const retry = h2.hub.runs()[0];
    expect(retry).toMatchObject({ attempt: 2, runner: "r1" });
    await h2.finish(retry!.execution_id);
    expect(h2.job()?.status).toBe("success");
  });
});

describe("Dispatcher: after a restart", () => {
  it("retries nothing for settled groups: no retries configured, retries used up, or a retry already ran", async () => {
    const dir = tempDir("dkron-dispatch-");
    cleanups.push(dir.cleanup);
    const file = join(dir.path, "state.db");
    const h1 = await ControlHarness.start({ file, scheduler: false });
    await h1.put({ name: "none", schedule: "@manually" });
    await h1.put({ name: "used", schedule: "@manually", retries: 1 });
    await h1.put({ name: "healed", schedule: "@manually", retries: 3 });
    for (const job of ["none", "used", "healed"]) {
      const [id] = await runNow(h1, job);
      await h1.finish(id!, { success: false });
    }
    await h1.advance(1000, 100);
    for (const r of h1.hub.runs().slice(3))
      await h1.finish(r.execution_id, { success: r.job_name === "healed" });
    await h1.advance(60_000);
    const statuses = () => ["none", "used", "healed"].map((j) => h1.job(j)?.status);
    expect(statuses()).toEqual(["failed", "failed", "success"]);
    const runs = h1.hub.runs().length;
    expect(runs).toBe(5);
    await h1.close();

    const h2 = await harness({ file, start: T0 + 10 * 60_000 });
    await h2.advance(60_000);
    expect(h2.hub.runs()).toEqual([]);
  });
});

describe("Dispatcher: leases", () => {
  it("marks a run whose result never arrives lost after the lease, which unblocks a forbid job", async () => {
    const h = await harness({ dispatcher: { leaseMs: 30_000 } });
    await h.put({ schedule: "@manually", concurrency: "forbid" });
    const [id] = await runNow(h);
    await h.advance(29_000);
    expect(h.executions()[0]?.state).toBe("running");
    const blocked = await h.dispatcher.run("job", "manual", h.clock.now());
    expect(blocked).toMatchObject({ ok: false, error: { code: "CONFLICT" } });

    await h.advance(2000);
    expect(h.executions()[0]).toMatchObject({ id, state: "lost", success: false });
    expect(h.executions()[0]?.output).toMatch(/lost: runner "r1" stopped reporting/);
    expect(h.job()).toMatchObject({ status: "failed", errorCount: 1 });
    expect(h.dispatcher.busy()).toEqual([]);

    // The job runs again; the lost run's late result changes nothing but is acknowledged.
    expect((await runNow(h)).length).toBe(1);
    await h.finish(id!);
    expect(h.hub.acks()).toEqual([id]);
    expect(h.executions()[0]).toMatchObject({ id, state: "lost" });
  });

  it("leases a lost run again when its lost-finish does not commit, and marks it lost on a later check", async () => {
    const h = await harness({ dispatcher: { leaseMs: 30_000 } });
    await h.put({ schedule: "@manually" });
    const [id] = await runNow(h);
    // The first lost-finish proposal times out (the one thing no real part here can be made to do).
    const propose = h.consensus.propose.bind(h.consensus);
    let refused = 0;
    const spy = vi.spyOn(h.consensus, "propose").mockImplementation((cmd) => {
      if (cmd.type === "execution.finish" && refused++ === 0)
        return Promise.reject(new Error("proposal timed out"));
      return propose(cmd);
    });
    await h.advance(31_000);
    expect(refused).toBe(1);
    expect(h.executions()[0]?.state).toBe("running");
    await h.advance(31_000);
    expect(h.executions()[0]).toMatchObject({ id, state: "lost" });
    spy.mockRestore();
  });

  it("keeps a run alive while its runner reports it (ack, ping, output)", async () => {
    const h = await harness({ dispatcher: { leaseMs: 30_000 } });
    await h.put({ schedule: "@manually" });
    const [id] = await runNow(h);
    for (let i = 0; i < 4; i++) {
      await h.advance(20_000);
      if (i % 2) h.dispatcher.onHeld("r1", [id!]);
      else h.dispatcher.onOutput("r1", { type: "output", execution_id: id!, seq: i, data: "." });
    }
    expect(h.executions()[0]?.state).toBe("running");
    await h.advance(31_000);
    expect(h.executions()[0]?.state).toBe("lost");
    expect(h.executions()[0]?.output).toMatch(/^\.\.\nlost:/);
  });

  it("a new leader calls nothing unknown before it has applied what was committed before its term", async () => {
    const h = await harness({ runners: ["r1"] });
    const hello = {
      type: "hello" as const,
      version: 1,
      name: "r1",
      tags: {},
      running: ["stale-1-r1"],
      pending_results: [],
      seen: [],
      uptime_ms: 0,
    };
    // Leadership moves away and back: the hello arrives before the new term's barrier has resolved,
    // when "stale-1-r1" may be a start still waiting in the log.
    h.dispatcher.stopLeading();
    h.dispatcher.startLeading();
    expect(h.dispatcher.onHello(h.hub.sessions()[0]!, hello)).toEqual([]);
    await h.settle();
    expect(h.dispatcher.onHello(h.hub.sessions()[0]!, hello)).toEqual(["stale-1-r1"]);
  });

  it("a new leader re-leases running executions: held ones survive, the others become lost", async () => {
    const dir = tempDir("dkron-dispatch-");
    cleanups.push(dir.cleanup);
    const file = join(dir.path, "state.db");
    const h1 = await ControlHarness.start({ file, scheduler: false, runners: ["r1", "r2"] });
    await h1.put({ schedule: "@manually" });
    const [held, orphan] = await runNow(h1);
    await h1.close();

    const h2 = await harness({ file, start: T0 + 5000, runners: ["r1"], dispatcher: { leaseMs: 30_000 } });
    const session = h2.hub.sessions()[0]!;
    const unknown = h2.dispatcher.onHello(session, {
      type: "hello",
      version: 1,
      name: "r1",
      tags: {},
      running: [held!, "stale-1-r1"],
      pending_results: [],
      seen: [],
      uptime_ms: 0,
    });
    expect(unknown).toEqual(["stale-1-r1"]);
    await h2.advance(20_000);
    h2.dispatcher.onHeld("r1", [held!]);
    await h2.advance(20_000);
    const byId = new Map(h2.executions().map((e) => [e.id, e.state]));
    expect(byId.get(held!)).toBe("running");
    expect(byId.get(orphan!)).toBe("lost");
    await h2.finish(held!);
    expect(h2.job()?.status).toBe("partially_failed");
  });
});

describe("Dispatcher: executions inherited from a previous leader", () => {
  async function inherited(uptimeMs: number, seen: string[] = []) {
    const dir = tempDir("dkron-dispatch-");
    cleanups.push(dir.cleanup);
    const file = join(dir.path, "state.db");
    const h1 = await ControlHarness.start({ file, scheduler: false, runners: ["r1"] });
    await h1.put({ schedule: "@manually" });
    const [id] = await runNow(h1);
    await h1.close();
    // The new leader starts 5 s later; the start above may never have reached r1.
    const h2 = await harness({ file, start: T0 + 5000, runners: ["r1"], dispatcher: { leaseMs: 30_000 } });
    const before = h2.hub.runs("r1").length;
    h2.dispatcher.onHello(h2.hub.sessions()[0]!, {
      type: "hello",
      version: 1,
      name: "r1",
      tags: {},
      running: [],
      pending_results: [],
      seen,
      uptime_ms: uptimeMs,
    });
    await h2.advance(10);
    return {
      id: id!,
      resent: h2.hub
        .runs("r1")
        .slice(before)
        .map((r) => r.execution_id),
    };
  }

  it("re-sends a start the runner never received when the runner was up before it", async () => {
    const { id, resent } = await inherited(60_000);
    expect(resent).toEqual([id]);
  });

  it("never re-sends to a runner that restarted since (it may have run it) or that already ran it", async () => {
    expect((await inherited(1000)).resent).toEqual([]);
    const first = await inherited(60_000, []);
    expect((await inherited(60_000, [first.id])).resent).toEqual([]);
  });
});

describe("Dispatcher: dependent jobs and ephemeral jobs", () => {
  it("runs children after the parent's success, down the chain; not after a failure", async () => {
    const h = await harness();
    await h.put({ name: "parent", schedule: "@manually" });
    await h.put({ name: "child", parent_job: "parent", schedule: "" });
    await h.put({ name: "grandchild", parent_job: "child", schedule: "" });

    const [failed] = await runNow(h, "parent");
    await h.finish(failed!, { success: false });
    expect(h.hub.runs().map((r) => r.job_name)).toEqual(["parent"]);

    const [ok] = await runNow(h, "parent");
    await h.finish(ok!);
    const child = h.hub.runs().at(-1)!;
    expect(child.job_name).toBe("child");
    expect(h.executions("child")[0]).toMatchObject({ trigger: "dependent" });
    expect(h.executions("grandchild")).toEqual([]);
    expect(owedRuns(h.state)).toEqual([]);
    await h.finish(child.execution_id);
    expect(h.hub.runs().at(-1)?.job_name).toBe("grandchild");
  });

  it("does not run a disabled child", async () => {
    const h = await harness();
    await h.put({ name: "parent", schedule: "@manually" });
    await h.put({ name: "child", parent_job: "parent", schedule: "", disabled: true });
    const [id] = await runNow(h, "parent");
    await h.finish(id!);
    expect(h.hub.runs().map((r) => r.job_name)).toEqual(["parent"]);
    expect(h.executions("child")).toEqual([]);
  });

  it("deletes an ephemeral job after its success, not after a failure", async () => {
    const h = await harness();
    await h.put({ schedule: "@manually", ephemeral: true, retries: 1 });
    const [first] = await runNow(h);
    await h.finish(first!, { success: false });
    await h.advance(1000, 100);
    expect(h.job()).toBeDefined();
    await h.finish(h.hub.runs()[1]!.execution_id);
    expect(h.job()).toBeUndefined();
    expect(h.executions()).toEqual([]);
  });

  it("keeps an ephemeral parent until its children are gone", async () => {
    const h = await harness();
    await h.put({ name: "parent", schedule: "@manually", ephemeral: true });
    await h.put({ name: "child", parent_job: "parent", schedule: "" });
    const [id] = await runNow(h, "parent");
    await h.finish(id!);
    expect(h.job("parent")).toBeDefined();
    expect(h.executions("child")).toHaveLength(1);
  });
});

describe("Dispatcher: dependent runs and ephemeral deletes survive the leader that owed them", () => {
  /**
   * parent ← child over a state file; parent's success is committed by a leader that dies before
   * its follow-ups (its dispatcher stops first, so nothing reacts to the commit). Returns the file.
   */
  async function orphanedSuccess(child: Parameters<ControlHarness["put"]>[0] = {}): Promise<string> {
    const dir = tempDir("dkron-dispatch-");
    cleanups.push(dir.cleanup);
    const file = join(dir.path, "state.db");
    const h1 = await ControlHarness.start({ file, scheduler: false });
    await h1.put({ name: "parent", schedule: "@manually" });
    await h1.put({ name: "child", parent_job: "parent", schedule: "", ...child });
    const [id] = await runNow(h1, "parent");
    h1.dispatcher.stopLeading();
    const res = await h1.propose(finishExecution(id!, { at: T0 + 1000, finishedAt: T0 + 1000 }));
    expect(res.ok).toBe(true);
    expect(h1.job("parent")?.status).toBe("success");
    expect(h1.executions("child")).toEqual([]);
    expect(owedRuns(h1.state)).toHaveLength(1);
    await h1.close();
    return file;
  }

  it("a new leader starts the child its predecessor owed, once, after runners had time to reconnect", async () => {
    const file = await orphanedSuccess();
    const h2 = await harness({ file, start: T0 + 10_000 });
    await h2.advance(4000, 100);
    expect(h2.hub.runs()).toEqual([]);
    await h2.advance(1500, 100);
    expect(h2.hub.runs().map((r) => r.job_name)).toEqual(["child"]);
    expect(h2.executions("child")).toMatchObject([
      { trigger: "dependent", state: "running", scheduled_at: T0 + 1000 },
    ]);
    expect(owedRuns(h2.state)).toEqual([]);
    await h2.finish(h2.hub.runs()[0]!.execution_id);
    await h2.advance(60_000);
    expect(h2.hub.runs()).toHaveLength(1);
    expect(h2.job("child")).toMatchObject({ status: "success", successCount: 1 });
    await h2.close();
    harnesses.splice(harnesses.indexOf(h2), 1);

    // And the leader after that owes nothing.
    const h3 = await harness({ file, start: T0 + 10 * 60_000 });
    await h3.advance(60_000);
    expect(h3.hub.runs()).toEqual([]);
  });

  it("a child owed right after a take-over waits for its runners to reconnect instead of failing with no target", async () => {
    // The parent ran on runner a; the child runs on role=b, whose runner is still reconnecting.
    const h = await harness({ runners: ["a"] });
    await h.put({ name: "parent", schedule: "@manually" });
    await h.put({ name: "child", parent_job: "parent", schedule: "", tags: { role: "b" } });
    const [id] = await runNow(h, "parent");
    await h.finish(id!);
    await h.advance(1000, 100);
    expect(h.executions("child")).toEqual([]);
    h.hub.connect("b", { role: "b" });
    await h.advance(600, 100);
    expect(h.executions("child")).toMatchObject([{ node_name: "b", state: "running", trigger: "dependent" }]);
    expect(owedRuns(h.state)).toEqual([]);
  });

  it("a child whose runners are still missing once the take-over window has passed is recorded as failed, not dropped", async () => {
    const h = await harness({ runners: ["a"] });
    await h.put({ name: "parent", schedule: "@manually" });
    await h.put({ name: "child", parent_job: "parent", schedule: "", tags: { role: "b" } });
    const [id] = await runNow(h, "parent");
    await h.finish(id!);
    await h.advance(6000, 100);
    expect(h.executions("child")).toMatchObject([{ state: "failed", trigger: "dependent" }]);
    expect(h.executions("child")[0]!.output).toContain("no target nodes found");
    expect(owedRuns(h.state)).toEqual([]);
  });

  it("a start for the same owed run committed meanwhile (the old leader's) settles it: no second start", async () => {
    const file = await orphanedSuccess();
    const h2 = await harness({ file, start: T0 + 10_000 });
    const [run] = owedRuns(h2.state);
    // The previous leader's start reaches the log only now.
    const late = await h2.propose({
      type: "execution.start",
      at: T0 + 2000,
      job: "child",
      group: 42,
      trigger: "dependent",
      attempt: 1,
      scheduledAt: run!.owedAt,
      retain: 100,
      executions: [{ id: "42-1-r1", node: "r1" }],
      owed: run!.mark,
    });
    expect(late.ok).toBe(true);
    await h2.advance(60_000);
    expect(h2.executions("child").map((e) => e.id)).toEqual(["42-1-r1"]);
    expect(h2.hub.runs().filter((r) => r.job_name === "child")).toEqual([]);

    // And the other way round: once this leader's start committed, a late duplicate is refused.
    const again = await h2.propose({
      type: "execution.start",
      at: T0 + 3000,
      job: "child",
      group: 43,
      trigger: "dependent",
      attempt: 1,
      scheduledAt: run!.owedAt,
      retain: 100,
      executions: [{ id: "43-1-r1", node: "r1" }],
      owed: run!.mark,
    });
    expect(again).toMatchObject({ ok: false, error: { code: "CONFLICT" } });
    expect(h2.executions("child")).toHaveLength(1);
  });

  it("a leader taking over twice before the start commits starts the child once", async () => {
    const file = await orphanedSuccess();
    const h2 = await harness({ file, start: T0 + 10_000 });
    // Leadership flaps: the first take-over's timer dies, the second one starts the run.
    h2.dispatcher.stopLeading();
    h2.dispatcher.startLeading();
    h2.dispatcher.startLeading();
    await h2.advance(60_000);
    expect(h2.executions("child")).toHaveLength(1);
    expect(h2.hub.runs().map((r) => r.job_name)).toEqual(["child"]);
  });

  it("nothing owed, nothing started: a restart after the child ran, or after a failed parent", async () => {
    const dir = tempDir("dkron-dispatch-");
    cleanups.push(dir.cleanup);
    const file = join(dir.path, "state.db");
    const h1 = await ControlHarness.start({ file, scheduler: false });
    await h1.put({ name: "parent", schedule: "@manually" });
    await h1.put({ name: "child", parent_job: "parent", schedule: "" });
    const [ok] = await runNow(h1, "parent");
    await h1.finish(ok!);
    await h1.finish(h1.hub.runs().at(-1)!.execution_id);
    await h1.advance(1000);
    const [bad] = await runNow(h1, "parent");
    await h1.finish(bad!, { success: false });
    expect(h1.executions("child")).toHaveLength(1);
    await h1.close();

    const h2 = await harness({ file, start: T0 + 10 * 60_000 });
    await h2.advance(60_000);
    expect(h2.hub.runs()).toEqual([]);
    expect(h2.executions("child")).toHaveLength(1);
  });

  it("a child disabled by the time the new leader starts it is skipped, and not owed any more", async () => {
    const file = await orphanedSuccess();
    const h2 = await harness({ file, start: T0 + 10_000 });
    await h2.propose({ type: "job.toggle", at: h2.clock.now(), name: "child" });
    await h2.advance(60_000);
    expect(h2.executions("child")).toEqual([]);
    expect(owedRuns(h2.state)).toEqual([]);
  });

  it("a forbid child still running when its parent succeeds is skipped, as Dkron does, and never started later", async () => {
    const h = await harness();
    await h.put({ name: "parent", schedule: "@manually" });
    await h.put({ name: "child", parent_job: "parent", schedule: "", concurrency: "forbid" });
    const [manual] = await runNow(h, "child");
    const [p] = await runNow(h, "parent");
    await h.finish(p!);
    expect(h.executions("child").map((e) => e.id)).toEqual([manual]);
    expect(owedRuns(h.state)).toEqual([]);
    await h.finish(manual!);
    h.dispatcher.stopLeading();
    h.dispatcher.startLeading();
    await h.advance(60_000);
    expect(h.executions("child")).toHaveLength(1);
  });

  it("an ephemeral job is gone once its success commits, even if the leader dies right after", async () => {
    const dir = tempDir("dkron-dispatch-");
    cleanups.push(dir.cleanup);
    const file = join(dir.path, "state.db");
    const h1 = await ControlHarness.start({ file, scheduler: false });
    await h1.put({ schedule: "@manually", ephemeral: true });
    const [id] = await runNow(h1);
    h1.dispatcher.stopLeading();
    expect((await h1.propose(finishExecution(id!, { at: T0 + 1000, finishedAt: T0 + 1000 }))).ok).toBe(true);
    expect(h1.job()).toBeUndefined();
    expect(h1.executions()).toEqual([]);
    await h1.close();

    const h2 = await harness({ file, start: T0 + 10_000 });
    expect(h2.job()).toBeUndefined();
    await h2.advance(60_000);
    expect(h2.hub.runs()).toEqual([]);
  });

  it("the runner's result for an ephemeral job is acknowledged, and so is its resend", async () => {
    const h = await harness();
    await h.put({ schedule: "@manually", ephemeral: true });
    const [id] = await runNow(h);
    await h.finish(id!);
    await h.finish(id!);
    expect(h.hub.acks()).toEqual([id, id]);
    expect(h.job()).toBeUndefined();
  });
});

describe("Dispatcher: starts and results of one turn in one entry", () => {
  /** Records the type of every applied entry (and how many items a batch entry held). */
  function entries(h: ControlHarness): string[] {
    const out: string[] = [];
    h.consensus.onApplied(({ cmd }) => {
      if (cmd.type === "executions.start") out.push(`${cmd.type} ×${cmd.starts.length}`);
      else if (cmd.type === "executions.finish") out.push(`${cmd.type} ×${cmd.finishes.length}`);
      else out.push(cmd.type);
    });
    return out;
  }

  it("starts made inside batchStarts go in one entry; each caller hears its own outcome", async () => {
    const h = await harness();
    await h.put({ name: "a", schedule: "@manually" });
    await h.put({ name: "off", schedule: "@every 1m", disabled: true });
    await h.put({ name: "b", schedule: "@manually" });
    const log = entries(h);
    const [a, off, b] = h.dispatcher.batchStarts(() => [
      h.dispatcher.run("a", "manual", h.clock.now()),
      h.dispatcher.run("off", "schedule", T0 + 60_000),
      h.dispatcher.run("b", "manual", h.clock.now()),
    ]);
    await h.settle();
    expect(log).toEqual(["executions.start ×3"]);
    expect((await a!).ok).toBe(true);
    expect(await off!).toMatchObject({ ok: false, error: { code: "CONFLICT" } });
    expect((await b!).ok).toBe(true);
    expect(h.hub.runs().map((r) => r.job_name)).toEqual(["a", "b"]);
  });

  it("results reported in one turn commit in one entry, at most one per job, and each is acknowledged", async () => {
    const h = await harness({ runners: ["r1", "r2"] });
    await h.put({ name: "a", schedule: "@manually" });
    await h.put({ name: "b", schedule: "@manually" });
    const [a1, a2] = await runNow(h, "a");
    const [b1, b2] = await runNow(h, "b");
    const log = entries(h);
    const now = h.clock.now();
    for (const id of [a1!, a2!, b1!, b2!, "gone-1-r1"]) {
      h.dispatcher.onResult(id.endsWith("r2") ? "r2" : "r1", {
        type: "result",
        execution_id: id,
        success: true,
        output: "ok\n",
        exit_code: 0,
        started_at: now,
        finished_at: now,
      });
    }
    await h.settle();
    // a's second result and b's second go in a second entry (a job's dependent-run marks are the
    // entry's index); the unknown id is refused alone and still acknowledged.
    expect(log).toEqual(["executions.finish ×3", "executions.finish ×2"]);
    expect(new Set(h.hub.acks())).toEqual(new Set([a1, a2, b1, b2, "gone-1-r1"]));
    expect(h.job("a")).toMatchObject({ status: "success", successCount: 2 });
    expect(h.job("b")).toMatchObject({ status: "success", successCount: 2 });
  });
});

describe("Dispatcher: max_concurrent with starts planned together", () => {
  /** A runner's socket as RunnerSessions sees it: open, recording the run frames sent to it. */
  function runnerSocket(runs: string[]) {
    return {
      readyState: 1,
      OPEN: 1,
      send(d: string) {
        const f = JSON.parse(d) as { type: string; job_name?: string };
        if (f.type === "run") runs.push(f.job_name!);
      },
    };
  }

  /** Sessions "a" (max_concurrent 1) and "b" (max_concurrent `bMax`), and the jobs each was sent. */
  async function twoRunners(bMax?: number) {
    const sessions = new RunnerSessions();
    const sent = { a: [] as string[], b: [] as string[] };
    const s = (name: string, max?: number) => ({
      name,
      tags: { pool: "p" },
      addr: "",
      connectedAt: 0,
      lastSeen: 0,
      ...(max === undefined ? {} : { maxConcurrent: max }),
    });
    sessions.add(s("a", 1), runnerSocket(sent.a));
    sessions.add(s("b", bMax), runnerSocket(sent.b));
    const h = await harness({ sessions });
    for (const name of ["j1", "j2", "j3"])
      await h.put({ name, schedule: "@manually", tags: { pool: "p:1" } });
    return { h, sessions, sent };
  }

  it("three starts planned in one tick spread over the runners instead of all going to the first", async () => {
    const { h, sent } = await twoRunners();
    // As a scheduler tick fires jobs due the same second: every start planned before any commits.
    const res = await Promise.all(
      ["j1", "j2", "j3"].map((j) => h.dispatcher.run(j, "manual", h.clock.now())),
    );
    await h.settle();
    expect(res.every((r) => r.ok)).toBe(true);
    expect(sent).toEqual({ a: ["j1"], b: ["j2", "j3"] });
    expect(["j1", "j2", "j3"].map((j) => h.executions(j)[0]?.state)).toEqual([
      "running",
      "running",
      "running",
    ]);
  });

  it("a start that finds every runner full (counting the ones planned with it) fails naming why", async () => {
    const { h, sent } = await twoRunners(1);
    await Promise.all(["j1", "j2", "j3"].map((j) => h.dispatcher.run(j, "manual", h.clock.now())));
    await h.settle();
    expect(sent).toEqual({ a: ["j1"], b: ["j2"] });
    expect(h.executions("j3")).toMatchObject([
      {
        state: "failed",
        node_name: "",
        output:
          'no target nodes found to run job j3 (tags {"pool":"p:1"}; connected runners: a (at max_concurrent 1), b (at max_concurrent 1))',
      },
    ]);
  });

  it("a slot held for a start that is refused is given back", async () => {
    const { h, sessions, sent } = await twoRunners(1);
    // A scheduled slot of a job with no schedule: planned on "a", refused by apply.
    const refused = await h.dispatcher.run("j1", "schedule", h.clock.now());
    await h.settle();
    expect(refused).toMatchObject({ ok: false, error: { code: "CONFLICT" } });
    expect(sessions.load("a")).toBe(0);
    await h.dispatcher.run("j2", "manual", h.clock.now());
    await h.settle();
    expect(sent.a).toEqual(["j2"]);
  });
});
