import { describe, expect, it } from "vitest";
import { WEBHOOK_DELIVERY_RETENTION_MS } from "../../shared/webhook";
import { dumpTables, MINUTE, putJob, startExecution, T0 } from "../../test/helpers/builders";
import { applyAll, stateDbsPerTest } from "../../test/helpers/state-db";
import type { StateDb } from "../store/db";
import { restoreStateSnapshot, takeStateSnapshot } from "../store/snapshot";
import type { Command, ExecutionStartCommand } from "./commands";

const { db } = stateDbsPerTest("dkron-apply-hooks-");

const TABLES = ["jobs", "executions", "webhooks", "webhook_deliveries"];
const rows = (s: StateDb, table: string) => s.sqlite.prepare(`select * from ${table} order by 1, 2`).all();
const hook = (id = "h1", job = "job"): Command => ({
  type: "webhook.put",
  at: T0,
  id,
  job,
  secret: `whsec_${id}`,
  createdBy: "",
});

let group = 0;
/** A webhook start: payload and delivery mark, one running target, a fresh group. */
function delivery(id: string, over: Partial<ExecutionStartCommand> = {}): ExecutionStartCommand {
  group++;
  return startExecution({
    trigger: "webhook",
    group,
    executions: [{ id: `${group}-1-r1`, node: "r1" }],
    payload: `{"delivery":"${id}"}`,
    delivery: { hook: "h1", id, retainMs: WEBHOOK_DELIVERY_RETENTION_MS },
    ...over,
  });
}

describe("apply: webhooks", () => {
  it("creates a hook only for an existing job and under a new id", () => {
    const s = db();
    expect(applyAll(s, [hook()])[0]).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
    applyAll(s, [putJob()]);
    expect(applyAll(s, [hook()])[0]!.ok).toBe(true);
    expect(applyAll(s, [hook("h1")])[0]).toMatchObject({ ok: false, error: { code: "CONFLICT" } });
    expect(rows(s, "webhooks")).toEqual([
      { id: "h1", job: "job", secret: "whsec_h1", created_at: T0, created_by: "", last_delivery_at: null },
    ]);
  });

  it("records a delivery with its start: the payload on the execution, the id, the hook's last delivery", () => {
    const s = db();
    applyAll(s, [putJob(), hook()]);
    const cmd = delivery("d1");
    const [res] = applyAll(s, [cmd]);
    expect(res).toMatchObject({
      ok: true,
      value: { executions: [{ id: cmd.executions[0]!.id, trigger: "webhook" }] },
    });
    expect(s.sqlite.prepare("select payload from executions").all()).toEqual([
      { payload: '{"delivery":"d1"}' },
    ]);
    expect(rows(s, "webhook_deliveries")).toEqual([{ hook_id: "h1", delivery_id: "d1", at: cmd.at }]);
    expect(rows(s, "webhooks")[0]).toMatchObject({ last_delivery_at: cmd.at });
  });

  it("refuses a replayed delivery id and changes nothing; another id runs", () => {
    const s = db();
    applyAll(s, [putJob(), hook(), delivery("d1")]);
    const before = dumpTables(s, TABLES);
    const [replay] = applyAll(s, [delivery("d1", { at: T0 + 2 * MINUTE })]);
    expect(replay).toEqual({
      ok: false,
      error: {
        code: "CONFLICT",
        message: "delivery d1 of hook h1 was already accepted",
        details: { field: "delivery", accepted_at: new Date(T0 + MINUTE).toISOString() },
      },
    });
    expect(dumpTables(s, TABLES)).toEqual(before);
    expect(applyAll(s, [delivery("d2")])[0]!.ok).toBe(true);
    expect(s.sqlite.prepare("select count(*) n from executions").get()).toEqual({ n: 2 });
  });

  it("forgets delivery ids past their retention, by the command's time, and prunes them", () => {
    const s = db();
    const retainMs = 10 * MINUTE;
    const mark = (id: string) => ({ hook: "h1", id, retainMs });
    applyAll(s, [putJob(), hook()]);
    applyAll(s, [delivery("old", { at: T0, delivery: mark("old") })]);
    applyAll(s, [delivery("newer", { at: T0 + 5 * MINUTE, delivery: mark("newer") })]);
    // At exactly the retention the id is still remembered.
    expect(applyAll(s, [delivery("old", { at: T0 + retainMs, delivery: mark("old") })])[0]!.ok).toBe(false);
    // Past it, the same id is a new delivery, and the apply that accepts it drops what expired.
    const later = T0 + retainMs + 1;
    expect(applyAll(s, [delivery("old", { at: later, delivery: mark("old") })])[0]!.ok).toBe(true);
    expect(rows(s, "webhook_deliveries")).toEqual([
      { hook_id: "h1", delivery_id: "newer", at: T0 + 5 * MINUTE },
      { hook_id: "h1", delivery_id: "old", at: later },
    ]);
    applyAll(s, [delivery("x", { at: T0 + 16 * MINUTE, delivery: mark("x") })]);
    expect(rows(s, "webhook_deliveries").map((r) => (r as { delivery_id: string }).delivery_id)).toEqual([
      "old",
      "x",
    ]);
  });

  it("refuses a delivery to a disabled job without recording it, so it may be sent again once enabled", () => {
    const s = db();
    applyAll(s, [putJob({ disabled: true }), hook()]);
    const [res] = applyAll(s, [delivery("d1")]);
    expect(res).toMatchObject({
      ok: false,
      error: {
        code: "CONFLICT",
        message: 'job "job" is disabled; its webhook runs nothing until it is enabled',
      },
    });
    expect(rows(s, "executions")).toEqual([]);
    expect(rows(s, "webhook_deliveries")).toEqual([]);
    applyAll(s, [{ type: "job.toggle", at: T0, name: "job" }]);
    expect(applyAll(s, [delivery("d1")])[0]!.ok).toBe(true);
  });

  it("refuses a delivery whose hook is gone or belongs to another job", () => {
    const s = db();
    applyAll(s, [putJob(), putJob({ name: "other" }), hook("h1", "other")]);
    expect(applyAll(s, [delivery("d1")])[0]).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
    applyAll(s, [{ type: "webhook.delete", at: T0, id: "h1" }]);
    expect(applyAll(s, [delivery("d1", { job: "other" })])[0]).toMatchObject({
      ok: false,
      error: { code: "NOT_FOUND", message: 'webhook "h1" not found' },
    });
    expect(rows(s, "executions")).toEqual([]);
  });

  it("deleting a hook drops its deliveries; deleting a job drops its hooks and theirs", () => {
    const s = db();
    applyAll(s, [putJob(), putJob({ name: "keep" }), hook("h1"), hook("h2", "keep"), hook("h3")]);
    applyAll(s, [
      delivery("d1"),
      delivery("d2", { job: "keep", delivery: { hook: "h2", id: "d2", retainMs: MINUTE } }),
      delivery("d3", { delivery: { hook: "h3", id: "d3", retainMs: MINUTE } }),
    ]);
    expect(applyAll(s, [{ type: "webhook.delete", at: T0, id: "h3" }])[0]!.ok).toBe(true);
    expect(applyAll(s, [{ type: "webhook.delete", at: T0, id: "h3" }])[0]).toMatchObject({
      ok: false,
      error: { code: "NOT_FOUND" },
    });
    expect(applyAll(s, [{ type: "job.delete", at: T0, name: "job" }])[0]!.ok).toBe(true);
    expect(rows(s, "webhooks").map((r) => (r as { id: string }).id)).toEqual(["h2"]);
    expect(rows(s, "webhook_deliveries")).toEqual([{ hook_id: "h2", delivery_id: "d2", at: T0 + MINUTE }]);
  });

  it("replicas agree, and a node restored from a snapshot refuses the replay too (it is state)", () => {
    const a = db("a.db");
    const b = db("b.db");
    const cmds: Command[] = [putJob(), hook(), delivery("d1"), delivery("d1"), delivery("d2")];
    const ra = applyAll(a, cmds);
    const rb = applyAll(b, cmds);
    expect(ra.map((r) => r.ok)).toEqual([true, true, true, false, true]);
    expect(rb).toEqual(ra);
    expect(dumpTables(b, ["meta", ...TABLES])).toEqual(dumpTables(a, ["meta", ...TABLES]));

    const c = db("c.db");
    restoreStateSnapshot(c, takeStateSnapshot(a));
    expect(dumpTables(c, TABLES)).toEqual(dumpTables(a, TABLES));
    const [replay] = applyAll(c, [delivery("d2")]);
    expect(replay).toMatchObject({ ok: false, error: { code: "CONFLICT" } });
  });
});
