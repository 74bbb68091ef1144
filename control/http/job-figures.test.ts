import { afterEach, describe, expect, it } from "vitest";
import type { ControlMethod, ControlParamsOf, ControlResults } from "../../shared";
import { MINUTE, T0 } from "../../test/helpers/builders";
import { ControlHarness, type HarnessOptions } from "../../test/helpers/control-harness";

const harnesses: ControlHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

async function harness(opts: HarnessOptions = {}): Promise<ControlHarness> {
  const h = await ControlHarness.start(opts);
  harnesses.push(h);
  return h;
}

/** Calls the control-api service as the edge does (GET /v1/jobs/:name is `jobs.get`). */
async function call<M extends ControlMethod>(
  h: ControlHarness,
  method: M,
  params: ControlParamsOf<M>,
): Promise<ControlResults[M]> {
  const res = h.service.call(method, params);
  await h.settle();
  return res;
}
const getJob = (h: ControlHarness, name = "job") => call(h, "jobs.get", { name });

/**
 * Runs the scheduled slots `slot(1)`, `slot(2)`, ... of an `@every 1m` job created at T0: each one
 * dispatched at its slot, started by its runner `lateMs[k]` later and finished 5 s after that.
 */
async function runSlots(h: ControlHarness, lateMs: number[]): Promise<void> {
  for (const [k, late] of lateMs.entries()) {
    const slot = T0 + (k + 1) * MINUTE;
    await h.advanceTo(slot);
    const run = h.hub.runs().at(-1)!;
    expect(new Date(run.scheduled_at).getTime()).toBe(slot);
    await h.advanceTo(slot + late, 10);
    await h.ack(run.execution_id, slot + late);
    await h.advanceTo(slot + late + 5000);
    await h.finish(run.execution_id, { started_at: slot + late });
  }
}

describe("GET /v1/jobs/:name: start lateness and drift", () => {
  it("a job never run yet has no figures (null), and an @every one has no drift yet either", async () => {
    const h = await harness();
    await h.put();
    expect(await getJob(h)).toMatchObject({
      lateness: null,
      drift: null,
      skipped_count: 0,
      last_skipped: null,
    });
  });

  it("a run dispatched at its slot whose runner started 250 ms later: start_lateness_ms 250, p50 and p99 250", async () => {
    const h = await harness();
    await h.put();
    await runSlots(h, [250]);
    const [e] = await call(h, "executions.list", {
      job: "job",
      sort: "started_at",
      order: "ASC",
      start: 0,
    }).then((r) => r.items);
    expect(e).toMatchObject({
      scheduled_at: new Date(T0 + MINUTE).toISOString(),
      dispatched_at: new Date(T0 + MINUTE).toISOString(),
      started_at: new Date(T0 + MINUTE + 250).toISOString(),
      start_lateness_ms: 250,
    });
    expect((await getJob(h)).lateness).toEqual({ samples: 1, p50_ms: 250, p99_ms: 250, max_ms: 250 });
  });

  it("p50, p99 and max over the retained scheduled runs; manual runs, retries and unknown starts do not count", async () => {
    const h = await harness({ dispatcher: { retain: 100 } });
    await h.put({ retries: 1 });
    await runSlots(h, [250, 100, 400, 50, 300]);
    // A manual run started 9 s after it was asked for: it has no slot, so it is not late.
    const manual = await h.dispatcher.run("job", "manual", h.clock.now());
    await h.settle();
    const mid = manual.ok && "executions" in manual.value ? manual.value.executions[0]!.id : "";
    await h.finish(mid, { started_at: h.clock.now() + 9000 });
    expect((await getJob(h)).lateness).toEqual({ samples: 5, p50_ms: 250, p99_ms: 400, max_ms: 400 });
    // Every minute apart, give or take each run's own lateness: (slot 5 + 300) − (slot 1 + 250) over 4.
    expect((await getJob(h)).drift).toEqual({ configured_ms: 60_000, effective_ms: 60_013, samples: 4 });

    // Slot 6 starts 700 ms late and fails; its retry starts long after the slot but is no sample.
    const slot6 = T0 + 6 * MINUTE;
    await h.advanceTo(slot6);
    const first = h.hub.runs().at(-1)!;
    await h.advanceTo(slot6 + 700, 10);
    await h.ack(first.execution_id, slot6 + 700);
    await h.advanceTo(slot6 + 5700);
    await h.finish(first.execution_id, { success: false, started_at: slot6 + 700 });
    // Dkron's back-off after a 5 s run: 2 s.
    await h.advance(3000);
    const retry = h.hub.runs().at(-1)!;
    expect(retry).toMatchObject({ attempt: 2 });
    await h.finish(retry.execution_id, { started_at: h.clock.now() });
    // Slot 7's runner never says it started, and the run is lost: its lateness is unknown.
    await h.advanceTo(T0 + 7 * MINUTE + 40_000);
    const slot7 = h.executions().find((e) => e.scheduled_at === T0 + 7 * MINUTE && e.attempt === 1);
    expect(slot7).toMatchObject({ state: "lost", start_reported: false });

    expect((await getJob(h)).lateness).toEqual({ samples: 6, p50_ms: 250, p99_ms: 700, max_ms: 700 });
    const items = (
      await call(h, "executions.list", { job: "job", sort: "started_at", order: "ASC", start: 0 })
    ).items;
    expect(items.map((e) => [e.trigger, e.attempt, e.start_lateness_ms])).toEqual([
      ["schedule", 1, 250],
      ["schedule", 1, 100],
      ["schedule", 1, 400],
      ["schedule", 1, 50],
      ["schedule", 1, 300],
      ["manual", 1, null],
      ["schedule", 1, 700],
      ["retry", 2, null],
      ["schedule", 1, null],
      // Slot 7's retry, not started yet.
      ["retry", 2, null],
    ]);
  });

  it("forbid: the slots a long run skips are counted on the job, and the @every cadence shows the drift", async () => {
    // A lease longer than the runs: the fake hub sends no pings to renew one.
    const h = await harness({ dispatcher: { leaseMs: 10 * MINUTE } });
    await h.put({ concurrency: "forbid" });
    // Each run takes 90 s: the slot a minute after it starts is due while it still runs.
    for (let k = 0; k < 3; k++) {
      const slot = T0 + (2 * k + 1) * MINUTE;
      await h.advanceTo(slot);
      const run = h.hub.runs().at(-1)!;
      await h.ack(run.execution_id, slot + 20);
      await h.advanceTo(slot + 90_000);
      await h.finish(run.execution_id, { started_at: slot + 20 });
    }
    expect(h.hub.runs()).toHaveLength(3);
    const job = await getJob(h);
    expect(job).toMatchObject({
      skipped_count: 3,
      last_skipped: new Date(T0 + 6 * MINUTE).toISOString(),
      lateness: { samples: 3, p50_ms: 20, p99_ms: 20, max_ms: 20 },
      drift: { configured_ms: 60_000, effective_ms: 120_000, samples: 2 },
    });
    // The list carries the counter (a column) but not the figures (a query per job).
    const list = await call(h, "jobs.list", { sort: "name", order: "ASC", start: 0 });
    expect(list.items[0]).toMatchObject({ skipped_count: 3 });
    expect(list.items[0]).not.toHaveProperty("lateness");
  });

  it("drift counts only the starts since the schedule was last set, and a cron job has none", async () => {
    const h = await harness();
    await h.put({ schedule: "@every 2m" });
    await h.advanceTo(T0 + 2 * MINUTE);
    await h.finish(h.hub.runs().at(-1)!.execution_id);
    await h.advanceTo(T0 + 4 * MINUTE);
    await h.finish(h.hub.runs().at(-1)!.execution_id);
    expect((await getJob(h)).drift).toEqual({ configured_ms: 120_000, effective_ms: 120_000, samples: 1 });
    await h.put({ schedule: "@every 1m" });
    expect((await getJob(h)).drift).toBeNull();
    // Lateness is about slots, whatever the schedule: the two runs still count.
    expect((await getJob(h)).lateness?.samples).toBe(2);
    await h.put({ schedule: "0 * * * * *" });
    expect((await getJob(h)).drift).toBeNull();
  });
});
