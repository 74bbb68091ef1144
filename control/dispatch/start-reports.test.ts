import { afterEach, describe, expect, it } from "vitest";
import { executionToJson } from "../../shared/execution";
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

/** Log entries written so far. */
const entries = (h: ControlHarness) => h.consensus.status().lastLogIndex;

/** The API's rendering of each execution of `job`, as the leader serves it. */
const api = (h: ControlHarness, job = "job") =>
  h.executions(job).map((e) => {
    const j = executionToJson(h.dispatcher.view(e));
    return {
      scheduled_at: j.scheduled_at,
      dispatched_at: j.dispatched_at,
      started_at: j.started_at,
      start_lateness_ms: j.start_lateness_ms,
    };
  });

const iso = (ms: number) => new Date(ms).toISOString();
const SLOT = T0 + MINUTE;

describe("Dispatcher: when a run was dispatched and when it started", () => {
  it("a run dispatched at its slot whose runner started it 250 ms later shows start_lateness_ms 250", async () => {
    const h = await harness();
    await h.put();
    await h.advanceTo(SLOT);
    const [run] = h.hub.runs();
    // Dispatched at the slot; the runner has not said it started: lateness is not known yet.
    expect(api(h)).toEqual([
      { scheduled_at: iso(SLOT), dispatched_at: iso(SLOT), started_at: iso(SLOT), start_lateness_ms: null },
    ]);
    await h.ack(run!.execution_id, SLOT + 250);
    expect(api(h)[0]).toMatchObject({ started_at: iso(SLOT + 250), start_lateness_ms: 250 });
    await h.advance(3000);
    await h.finish(run!.execution_id, { started_at: SLOT + 250 });
    expect(api(h)).toEqual([
      {
        scheduled_at: iso(SLOT),
        dispatched_at: iso(SLOT),
        started_at: iso(SLOT + 250),
        start_lateness_ms: 250,
      },
    ]);
  });

  it("a short run records its start with its finish: no log entry of its own", async () => {
    const h = await harness({ scheduler: false });
    await h.put({ schedule: "@manually" });
    const before = entries(h);
    const res = await h.dispatcher.run("job", "manual", h.clock.now());
    await h.settle();
    const id = res.ok && "executions" in res.value ? res.value.executions[0]!.id : "";
    await h.ack(id, T0 + 30);
    await h.advance(500, 100);
    await h.finish(id, { started_at: T0 + 30 });
    await h.advance(2000);
    // The start and the finish: two entries, the start carried by the finish.
    expect(entries(h) - before).toBe(2);
    expect(h.executions()[0]).toMatchObject({ started_at: T0 + 30, start_reported: true, dispatched_at: T0 });
  });

  it("a long run's start is committed while it runs, and the starts reported together share one entry", async () => {
    const h = await harness({ scheduler: false, runners: ["r1", "r2", "r3"] });
    await h.put({ schedule: "@manually" });
    const res = await h.dispatcher.run("job", "manual", h.clock.now());
    await h.settle();
    const ids = res.ok && "executions" in res.value ? res.value.executions.map((e) => e.id) : [];
    expect(ids).toHaveLength(3);
    const before = entries(h);
    for (const [k, id] of ids.entries()) await h.ack(id, T0 + 10 * (k + 1));
    await h.advance(1000, 100);
    expect(entries(h) - before).toBe(1);
    // Committed: every node's copy shows it, not only the leader's view.
    expect(h.executions().map((e) => [e.state, e.started_at, e.start_reported])).toEqual([
      ["running", T0 + 10, true],
      ["running", T0 + 20, true],
      ["running", T0 + 30, true],
    ]);
    // A re-sent run's ack repeats the start: nothing more to write.
    await h.ack(ids[0]!, T0 + 10);
    await h.advance(2000, 100);
    expect(entries(h) - before).toBe(1);
  });

  it("an older runner's bare ack leaves the start unknown until its result reports it", async () => {
    const h = await harness();
    await h.put();
    await h.advanceTo(SLOT);
    const id = h.hub.runs()[0]!.execution_id;
    await h.ack(id);
    await h.advance(2000);
    expect(api(h)[0]?.start_lateness_ms).toBeNull();
    await h.finish(id, { started_at: SLOT + 1200 });
    expect(api(h)[0]?.start_lateness_ms).toBe(1200);
  });

  it("a manual run has no lateness: it has no slot to be late for", async () => {
    const h = await harness({ scheduler: false });
    await h.put({ schedule: "@manually" });
    await h.dispatcher.run("job", "manual", h.clock.now());
    await h.settle();
    await h.finish(h.hub.runs()[0]!.execution_id, { started_at: T0 + 400 });
    expect(api(h)).toEqual([
      { scheduled_at: iso(T0), dispatched_at: iso(T0), started_at: iso(T0 + 400), start_lateness_ms: null },
    ]);
  });
});
