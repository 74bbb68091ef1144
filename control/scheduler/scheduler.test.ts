import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { jobSpec, MINUTE, T0 } from "../../test/helpers/builders";
import { ControlHarness, type HarnessOptions } from "../../test/helpers/control-harness";
import { tempDir } from "../../test/helpers/tmp";

const harnesses: ControlHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

async function harness(opts: HarnessOptions = {}): Promise<ControlHarness> {
  const h = await ControlHarness.start(opts);
  harnesses.push(h);
  return h;
}

const iso = (ms: number) => new Date(ms).toISOString();
const at = (m: number) => T0 + m * MINUTE;
/** Slot times of the run frames sent for a job. */
const slots = (h: ControlHarness, job = "job") =>
  h.hub
    .runs()
    .filter((r) => r.job_name === job)
    .map((r) => r.scheduled_at);

/** Answers every run frame not answered yet with success. */
async function answerAll(h: ControlHarness): Promise<void> {
  const done = new Set(h.hub.acks());
  for (const r of h.hub.runs()) if (!done.has(r.execution_id)) await h.finish(r.execution_id);
}

describe("Scheduler: firing", () => {
  it("fires each slot of an @every job once, at its time", async () => {
    const h = await harness();
    await h.put({ schedule: "@every 1m" });
    await h.advance(59_000);
    expect(slots(h)).toEqual([]);
    await h.advance(1000);
    expect(slots(h)).toEqual([iso(at(1))]);
    await answerAll(h);
    await h.advance(2 * MINUTE + 30_000);
    expect(slots(h)).toEqual([iso(at(1)), iso(at(2)), iso(at(3))]);
    const runs = h.executions();
    expect(runs.map((e) => e.trigger)).toEqual(["schedule", "schedule", "schedule"]);
    // Virtual time: each run started exactly at its slot.
    expect(runs.map((e) => e.started_at)).toEqual([at(1), at(2), at(3)]);
  });

  it("fires cron schedules in the job's time zone", async () => {
    const h = await harness();
    // 01:00 in Berlin is 00:00 UTC in January.
    await h.put({ schedule: "0 0 1 * * *", timezone: "Europe/Berlin" });
    await h.advance(24 * 60 * MINUTE, 60_000);
    expect(slots(h)).toEqual([iso(Date.UTC(2026, 0, 2, 0, 0))]);
  });

  it("runs an @at job once", async () => {
    const h = await harness();
    await h.put({ schedule: `@at ${iso(at(2))}` });
    await h.advance(10 * MINUTE);
    expect(slots(h)).toEqual([iso(at(2))]);
  });

  it("never starts a slot twice: not on a second proposal, not after the scheduler restarts", async () => {
    const h = await harness();
    await h.put({ schedule: "@every 1m" });
    await h.advance(MINUTE + 10_000);
    expect(slots(h)).toHaveLength(1);
    const again = await h.dispatcher.run("job", "schedule", at(1));
    expect(again).toMatchObject({ ok: false, error: { code: "CONFLICT" } });

    h.scheduler.stop();
    await h.startScheduler();
    await h.advance(MINUTE);
    expect(slots(h)).toEqual([iso(at(1)), iso(at(2))]);
    expect(h.executions().map((e) => e.scheduled_at)).toEqual([at(1), at(2)]);
  });

  it("stops firing a deleted job", async () => {
    const h = await harness();
    await h.put({ schedule: "@every 1m" });
    await h.advance(MINUTE);
    await answerAll(h);
    await h.propose({ type: "job.delete", at: h.clock.now(), name: "job" });
    await h.advance(5 * MINUTE);
    expect(slots(h)).toHaveLength(1);
  });
});

describe("Scheduler: several jobs", () => {
  it("fires each job on its own schedule", async () => {
    const h = await harness();
    await h.put({ name: "a", schedule: "@every 2m" });
    await h.put({ name: "b", schedule: "@every 3m" });
    await h.put({ name: "c", schedule: "*/5 * * * *" });
    await h.advance(10 * MINUTE);
    expect(slots(h, "a")).toEqual([2, 4, 6, 8, 10].map((m) => iso(at(m))));
    expect(slots(h, "b")).toEqual([3, 6, 9].map((m) => iso(at(m))));
    expect(slots(h, "c")).toEqual([5, 10].map((m) => iso(at(m))));
  });
});

describe("Scheduler: what does not fire", () => {
  it("skips a disabled job, and enabling it does not run the slots missed meanwhile", async () => {
    const h = await harness();
    await h.put({ schedule: "@every 1m" });
    await h.advance(MINUTE + 30_000);
    await h.propose({ type: "job.toggle", at: h.clock.now(), name: "job" });
    await h.advance(4 * MINUTE);
    expect(slots(h)).toEqual([iso(at(1))]);
    await h.propose({ type: "job.toggle", at: h.clock.now(), name: "job" }); // at 5m30s
    await h.advance(20_000);
    expect(slots(h)).toEqual([iso(at(1))]);
    await h.advance(20_000);
    expect(slots(h)).toEqual([iso(at(1)), iso(at(6))]);
    expect(h.executions().map((e) => e.state)).not.toContain("missed");
  });

  it("honours starts_at and expires_at", async () => {
    const h = await harness();
    await h.put({ schedule: "@every 1m", starts_at: iso(at(3) - 30_000), expires_at: iso(at(5)) });
    await h.advance(10 * MINUTE);
    expect(slots(h)).toEqual([iso(at(3)), iso(at(4)), iso(at(5))]);
  });

  it("extending an expired job's expires_at does not run the slots that passed after it expired", async () => {
    const h = await harness();
    await h.put({ schedule: "@every 1m", expires_at: iso(at(2)) });
    await h.advance(10 * MINUTE + 30_000);
    await answerAll(h);
    expect(slots(h)).toEqual([iso(at(1)), iso(at(2))]);
    await h.put({ schedule: "@every 1m", expires_at: iso(at(60)) });
    await h.advance(MINUTE);
    expect(slots(h)).toEqual([iso(at(1)), iso(at(2)), iso(at(11))]);
  });

  it("moving starts_at into the past does not run the slots between it and now", async () => {
    const h = await harness();
    await h.put({ schedule: "@every 1m", starts_at: iso(at(24 * 60)) });
    await h.advance(10 * MINUTE + 30_000);
    await h.put({ schedule: "@every 1m", starts_at: iso(at(5)) });
    await h.advance(MINUTE);
    expect(slots(h)).toEqual([iso(at(11))]);
  });

  it("never fires @manually jobs or child jobs on their own; both can be run", async () => {
    const h = await harness();
    await h.put({ name: "manual", schedule: "@manually" });
    await h.put({ name: "child", parent_job: "manual", schedule: "@every 1m" });
    await h.advance(5 * MINUTE);
    expect(h.hub.runs()).toEqual([]);
    expect((await h.dispatcher.run("child", "manual", h.clock.now())).ok).toBe(true);
    expect((await h.dispatcher.run("manual", "manual", h.clock.now())).ok).toBe(true);
    expect(h.hub.runs().map((r) => r.job_name)).toEqual(["child", "manual"]);
  });

  it("a child made top-level starts its schedule then, without a burst of old slots", async () => {
    const h = await harness();
    await h.put({ name: "parent", schedule: "@manually" });
    await h.put({ name: "child", parent_job: "parent", schedule: "@every 1m" });
    await h.advance(30 * MINUTE + 30_000);
    await h.put({ name: "child", schedule: "@every 1m" });
    await h.advance(MINUTE);
    expect(slots(h, "child")).toEqual([iso(at(31) + 30_000)]);
  });
});

describe("Scheduler: schedule changes", () => {
  it("restarts the @every cadence when the schedule changes", async () => {
    const h = await harness();
    await h.put({ schedule: "@every 10m" });
    await h.advance(3 * MINUTE);
    await h.put({ schedule: "@every 5m" });
    await h.advance(12 * MINUTE);
    expect(slots(h)).toEqual([iso(at(8)), iso(at(13))]);
  });

  it("plans a job again when its schedule changes while one of its slots is being started", async () => {
    const h = await harness();
    await h.put({ schedule: "@every 10m" });
    await h.advance(10 * MINUTE - 1000);
    h.clock.advance(1000); // the 10m timer fires: its start is proposed, not yet committed
    const change = h.propose({ type: "job.put", at: h.clock.now(), job: jobSpec({ schedule: "@every 3m" }) });
    await change;
    await h.advance(7 * MINUTE);
    expect(slots(h)).toEqual([iso(at(10)), iso(at(13)), iso(at(16))]);
  });

  it("keeps the cadence when something else about the job changes", async () => {
    const h = await harness();
    await h.put({ schedule: "@every 10m" });
    await h.advance(3 * MINUTE);
    await h.put({ schedule: "@every 10m", owner: "ops" });
    await h.advance(8 * MINUTE);
    expect(slots(h)).toEqual([iso(at(10))]);
  });
});

describe("Scheduler: concurrency forbid", () => {
  it("skips slots while a run is in progress and does not run them late", async () => {
    const h = await harness({ dispatcher: { leaseMs: 10 * MINUTE } });
    await h.put({ schedule: "@every 1m", concurrency: "forbid" });
    await h.advance(MINUTE);
    const first = h.hub.runs()[0]!;
    await h.advance(MINUTE + 30_000); // the 2m slot passes while the first run is still going
    await h.finish(first.execution_id);
    await h.advance(MINUTE);
    expect(slots(h)).toEqual([iso(at(1)), iso(at(3))]);
    expect(h.executions().map((e) => e.scheduled_at)).toEqual([at(1), at(3)]);
  });

  it("a run whose result never arrives blocks the job only until its lease expires", async () => {
    const h = await harness({ dispatcher: { leaseMs: 90_000 } });
    await h.put({ schedule: "@every 1m", concurrency: "forbid" });
    await h.advance(4 * MINUTE + 10_000);
    // Runs are never answered: 1m runs, 2m is skipped, 1m is lost at 2m30s, 3m runs, 4m is skipped.
    expect(slots(h)).toEqual([iso(at(1)), iso(at(3))]);
    expect(h.executions().map((e) => [e.scheduled_at, e.state])).toEqual([
      [at(1), "lost"],
      [at(3), "running"],
    ]);
    await h.advance(MINUTE);
    expect(slots(h)).toEqual([iso(at(1)), iso(at(3)), iso(at(5))]);
  });
});

describe("Scheduler: catch-up of slots missed before it started", () => {
  /** A job created at T0 with @every 10m; the scheduler starts at 1h05m. */
  async function late(over: Parameters<ControlHarness["put"]>[0]): Promise<ControlHarness> {
    const h = await harness({ scheduler: false });
    await h.put({ schedule: "@every 10m", ...over });
    await h.advance(65 * MINUTE, 60_000);
    expect(h.hub.runs()).toEqual([]);
    await h.startScheduler();
    return h;
  }
  const history = (h: ControlHarness) =>
    h.executions().map((e) => [(e.scheduled_at - T0) / MINUTE, e.trigger, e.state]);

  it("latest (default): runs the newest missed slot once and records the others as missed", async () => {
    const h = await late({});
    expect(slots(h)).toEqual([iso(at(60))]);
    expect(history(h)).toEqual([
      [10, "schedule", "missed"],
      [20, "schedule", "missed"],
      [30, "schedule", "missed"],
      [40, "schedule", "missed"],
      [50, "schedule", "missed"],
      [60, "catchup", "running"],
    ]);
    expect(h.executions()[0]?.output).toMatch(/catch-up policy "latest"/);
    // Missed slots do not count as failures; the regular cadence goes on.
    await answerAll(h);
    expect(h.job()).toMatchObject({ status: "success", errorCount: 0 });
    await h.advance(5 * MINUTE);
    expect(slots(h)).toEqual([iso(at(60)), iso(at(70))]);
  });

  it("latest: a newest slot older than catchup_deadline is only recorded", async () => {
    const h = await late({ catchup_deadline: 60_000 });
    expect(slots(h)).toEqual([]);
    expect(history(h).map((r) => r[2])).toEqual(Array(6).fill("missed"));
  });

  it("none: records every missed slot and runs none", async () => {
    const h = await late({ catchup: "none" });
    expect(slots(h)).toEqual([]);
    expect(history(h).map((r) => r[0])).toEqual([10, 20, 30, 40, 50, 60]);
    expect(history(h).every((r) => r[2] === "missed")).toBe(true);
  });

  it("all: runs every missed slot, oldest first", async () => {
    const h = await late({ catchup: "all" });
    await answerAll(h);
    expect(slots(h)).toEqual([10, 20, 30, 40, 50, 60].map((m) => iso(at(m))));
    expect(history(h).every((r) => r[1] === "catchup")).toBe(true);
  });

  it("after a restart of the node, plans from the last started slot kept in the database", async () => {
    const dir = tempDir("dkron-sched-");
    try {
      const file = join(dir.path, "state.db");
      const h1 = await ControlHarness.start({ file });
      await h1.put({ schedule: "@every 10m" });
      await h1.advance(10 * MINUTE);
      await answerAll(h1);
      await h1.advance(2 * MINUTE);
      await h1.close();

      // Down from 12m to 45m: 20m, 30m and 40m were missed; 40m is run once, 50m on time.
      const h2 = await harness({ file, start: at(45) });
      expect(history(h2)).toEqual([
        [10, "schedule", "success"],
        [20, "schedule", "missed"],
        [30, "schedule", "missed"],
        [40, "catchup", "running"],
      ]);
      await h2.advance(5 * MINUTE);
      expect(slots(h2)).toEqual([iso(at(40)), iso(at(50))]);
    } finally {
      dir.cleanup();
    }
  });

  it("does not treat slots of a disabled job as missed", async () => {
    const h = await late({ disabled: true });
    expect(h.executions()).toEqual([]);
  });
});

describe("Scheduler: daylight saving time", () => {
  /** Every record of a job: [UTC hh:mm of its slot, started or skipped-dst, output]. */
  const ledger = (h: ControlHarness) =>
    h
      .executions()
      .map(
        (e) =>
          [
            iso(e.scheduled_at).slice(11, 16),
            e.state === "skipped-dst" ? e.state : "started",
            e.output,
          ] as const,
      );

  it("an hourly job runs 25 times on Berlin's 25-hour day (auto follows real time)", async () => {
    // From just before midnight (22:00Z, CEST) to just before the next (23:00Z, CET).
    const h = await harness({ start: Date.parse("2026-10-24T21:59:00Z") });
    await h.put({ schedule: "0 0 * * * *", timezone: "Europe/Berlin" });
    await h.advanceTo(Date.parse("2026-10-25T22:59:00Z"), 60_000);
    expect(slots(h)).toHaveLength(25);
    // 02:00 CEST at 00:00Z, and 02:00 CET an hour later.
    expect(slots(h).slice(2, 5)).toEqual([
      "2026-10-25T00:00:00.000Z",
      "2026-10-25T01:00:00.000Z",
      "2026-10-25T02:00:00.000Z",
    ]);
  });

  it("dst once runs the repeated hour once: 24 runs", async () => {
    const h = await harness({ start: Date.parse("2026-10-24T21:59:00Z") });
    await h.put({ schedule: "0 0 * * * *", timezone: "Europe/Berlin", dst: "once" });
    await h.advanceTo(Date.parse("2026-10-25T22:59:00Z"), 60_000);
    expect(slots(h)).toHaveLength(24);
  });

  it("records the quarter hours a spring-forward gap swallows as one skipped-dst record, then runs on", async () => {
    const h = await harness({ start: Date.parse("2026-03-29T00:30:00Z") }); // 01:30 CET
    await h.put({ schedule: "0 */15 * * * *", timezone: "Europe/Berlin" });
    await h.advanceTo(Date.parse("2026-03-29T01:20:00Z"), 60_000);
    expect(ledger(h).map(([at, state]) => [at, state])).toEqual([
      ["00:45", "started"],
      ["01:00", "skipped-dst"],
      ["01:00", "started"],
      ["01:15", "started"],
    ]);
    expect(ledger(h)[1]![2]).toBe(
      "clocks jump from 02:00 to 03:00: 4 wall times from 02:00 to 02:45 never happen and do not run (dst skip) in Europe/Berlin",
    );
  });

  it("a daily 02:30 job under dst skip records the skip when the clock jumps, not a day later", async () => {
    const h = await harness({ start: Date.parse("2026-03-28T12:00:00Z") });
    await h.put({ schedule: "30 2 * * *", timezone: "Europe/Berlin", dst: "skip" });
    await h.advanceTo(Date.parse("2026-03-29T01:00:30Z"), 60_000);
    expect(ledger(h).map(([at, state]) => [at, state])).toEqual([["01:00", "skipped-dst"]]);
    expect(h.hub.runs()).toEqual([]);
    await h.advanceTo(Date.parse("2026-03-30T00:31:00Z"), 60_000);
    expect(slots(h)).toEqual(["2026-03-30T00:30:00.000Z"]);
  });

  it("under the default, the same job runs at 03:00 CEST on the spring day and records nothing", async () => {
    const h = await harness({ start: Date.parse("2026-03-28T12:00:00Z") });
    await h.put({ schedule: "30 2 * * *", timezone: "Europe/Berlin" });
    await h.advanceTo(Date.parse("2026-03-29T02:00:00Z"), 60_000);
    expect(ledger(h).map(([at, state]) => [at, state])).toEqual([["01:00", "started"]]);
  });
});

describe("Scheduler: due-time index", () => {
  it("holds only the jobs due within its horizon, and fires each far-off slot at its time", async () => {
    const h = await harness();
    for (let i = 0; i < 40; i++) await h.put({ name: `hourly-${i}`, schedule: "@every 1h" });
    await h.put({ name: "often", schedule: "@every 1m" });
    await h.put({ name: "manual", schedule: "@manually" });
    // Only "often" is due within the next minute or two; the hourly jobs stay in the index.
    expect(h.scheduler.held()).toBe(1);
    await h.advance(2 * 60 * MINUTE, 30_000);
    for (let i = 0; i < 40; i++) expect(slots(h, `hourly-${i}`)).toEqual([iso(at(60)), iso(at(120))]);
    expect(slots(h, "often")).toHaveLength(120);
    expect(slots(h, "manual")).toEqual([]);
    expect(h.scheduler.held()).toBeLessThanOrEqual(1);
  });

  it("a job changed to fire sooner is planned at its new time; one disabled is dropped", async () => {
    const h = await harness();
    await h.put({ schedule: "@every 1h" });
    await h.put({ name: "other", schedule: "@every 2m" });
    await h.advance(10 * MINUTE + 30_000);
    expect(slots(h)).toEqual([]);
    await h.put({ schedule: "@every 1m" }); // at 10m30s: a new cadence from now
    await h.advance(2 * MINUTE);
    expect(slots(h)).toEqual([iso(at(11) + 30_000), iso(at(12) + 30_000)]);
    await h.propose({ type: "job.toggle", at: h.clock.now(), name: "other" });
    const before = slots(h, "other").length;
    await h.advance(10 * MINUTE);
    expect(slots(h, "other")).toHaveLength(before);
  });

  it("after a restart, loads from the index the jobs whose slots passed and catches them up once", async () => {
    const h = await harness();
    await h.put({ schedule: "@every 1h", catchup: "latest" });
    await h.put({ name: "later", schedule: "@every 1h", starts_at: iso(at(24 * 60)) });
    h.scheduler.stop();
    await h.advance(3 * 60 * MINUTE + 10 * MINUTE);
    await h.startScheduler();
    // "job" is due (slots at 1h, 2h, 3h passed): one catch-up run of the latest; "later" is not.
    expect(h.scheduler.held()).toBeLessThanOrEqual(1);
    await h.advance(1000);
    expect(slots(h)).toEqual([iso(at(180))]);
    expect(slots(h, "later")).toEqual([]);
  });
});

describe("Scheduler: a burst of jobs due at once", () => {
  it("proposes the starts due in one tick as one entry and sends every run once it commits", async () => {
    const h = await harness();
    const names = ["a", "b", "c", "d", "e"];
    for (const name of names) await h.put({ name, schedule: "@every 1m" });
    const entries: { type: string; starts?: number }[] = [];
    h.consensus.onApplied(({ cmd }) =>
      entries.push({
        type: cmd.type,
        ...(cmd.type === "executions.start" ? { starts: cmd.starts.length } : {}),
      }),
    );
    await h.advance(MINUTE);
    expect(entries).toEqual([{ type: "executions.start", starts: 5 }]);
    expect(names.map((n) => slots(h, n))).toEqual(names.map(() => [iso(at(1))]));
  });

  it("a refused start in the tick's entry fails alone: the others start and are sent", async () => {
    const h = await harness();
    for (const name of ["a", "b", "c"]) await h.put({ name, schedule: "@every 1m" });
    const outcomes: string[][] = [];
    h.consensus.onApplied(({ cmd, result }) => {
      if (cmd.type === "executions.start" && result.ok && result.value && "results" in result.value)
        outcomes.push(result.value.results.map((r) => (r.ok ? "ok" : r.error.code)));
    });
    // b's slot is started by hand as the old single entry just before the tick proposes its own.
    h.clock.advance(MINUTE - 1);
    const early = h.propose({
      type: "execution.start",
      at: h.clock.now(),
      job: "b",
      group: 1,
      trigger: "schedule",
      attempt: 1,
      scheduledAt: at(1),
      retain: 100,
      executions: [{ id: "1-1-r1", node: "r1" }],
    });
    await h.advance(1);
    expect((await early).ok).toBe(true);
    expect(outcomes).toEqual([["ok", "CONFLICT", "ok"]]);
    expect(["a", "b", "c"].map((n) => h.executions(n).length)).toEqual([1, 1, 1]);
    expect(slots(h, "a")).toEqual([iso(at(1))]);
    expect(slots(h, "c")).toEqual([iso(at(1))]);
    expect(slots(h, "b")).toEqual([]);
  });
});
