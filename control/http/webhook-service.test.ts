import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { isAppError } from "../../shared/errors";
import { WEBHOOK_DELIVERY_RETENTION_MS, WEBHOOK_TOLERANCE_MS } from "../../shared/webhook";
import { ControlHarness } from "../../test/helpers/control-harness";

// The webhook methods on the real one-voter control plane, on virtual time: what the timestamp
// window and the delivery retention do as the clock moves, and what a webhook run carries.

const harnesses: ControlHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

async function setup(job: Record<string, unknown> = {}) {
  const h = await ControlHarness.start({ scheduler: false, runners: ["r1", "r2"] });
  harnesses.push(h);
  await h.put({ schedule: "@manually", ...job });
  const hook = await h.service.call("webhooks.create", { hook: { job: "job" } });
  return { h, hook };
}

const hmac = (secret: string, text: string) => createHmac("sha256", secret).update(text).digest("hex");

/** Our scheme's headers for `body`, signed at control's (virtual) now unless told. */
function signed(h: ControlHarness, secret: string, body: string, at = h.clock.now()) {
  const timestamp = String(Math.floor(at / 1000));
  return { timestamp, signature: `sha256=${hmac(secret, `${timestamp}.${body}`)}` };
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isAppError(e)) return e;
    throw e;
  }
  throw new Error("expected a refusal");
}

describe("hooks.deliver on the control plane", () => {
  it("starts the job on every target with the payload in each run frame; the answer names them", async () => {
    const { h, hook } = await setup();
    const body = '{"x":1}';
    const res = await h.service.call("hooks.deliver", {
      id: hook.id,
      body,
      headers: signed(h, hook.secret, body),
    });
    await h.settle();
    const runs = h.hub.runs();
    expect(runs.map((r) => [r.runner, r.payload])).toEqual([
      ["r1", body],
      ["r2", body],
    ]);
    expect(res).toEqual({
      execution_id: runs[0]!.execution_id,
      executions: runs.map((r) => r.execution_id),
      job: "job",
      delivery: hmac(hook.secret, `${Math.floor(h.clock.now() / 1000)}.${body}`),
    });
    expect(h.executions().map((e) => e.trigger)).toEqual(["webhook", "webhook"]);
  });

  it("a retry of a webhook run gets the payload again (and is not a second delivery)", async () => {
    const { h, hook } = await setup({ retries: 1, tags: { pool: "a:1" } });
    h.hub.disconnect("r2");
    h.hub.connect("r1", { pool: "a" });
    await h.service.call("hooks.deliver", { id: hook.id, body: "p", headers: signed(h, hook.secret, "p") });
    await h.settle();
    const [first] = h.hub.runs();
    await h.finish(first!.execution_id, { success: false });
    await h.advance(2000, 100);
    const retry = h.hub.runs()[1]!;
    expect(retry).toMatchObject({ attempt: 2, payload: "p" });
    expect(h.executions().map((e) => e.trigger)).toEqual(["webhook", "retry"]);
    expect(h.state.sqlite.prepare("select count(*) n from webhook_deliveries").get()).toEqual({ n: 1 });
  });

  it("refuses a timestamp that fell out of the window while the request was in flight; nothing runs", async () => {
    const { h, hook } = await setup();
    const headers = signed(h, hook.secret, "late");
    await h.advance(WEBHOOK_TOLERANCE_MS + 1000);
    const e = await refusal(h.service.call("hooks.deliver", { id: hook.id, body: "late", headers }));
    expect(e.code).toBe("UNAUTHORIZED");
    expect(e.message).toMatch(/is 30[01] s old; deliveries must be signed within 5 minutes/);
    expect(h.hub.runs()).toEqual([]);
    expect(h.executions()).toEqual([]);
  });

  it("two identical deliveries at once: one runs, the other is refused by the log", async () => {
    const { h, hook } = await setup();
    const headers = signed(h, hook.secret, "twice");
    const results = await Promise.allSettled([
      h.service.call("hooks.deliver", { id: hook.id, body: "twice", headers }),
      h.service.call("hooks.deliver", { id: hook.id, body: "twice", headers }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ code: "CONFLICT" });
    await h.settle();
    expect(h.hub.runs()).toHaveLength(2); // one run group, two targets
  });

  it("GitHub deliveries are refused as replays while their id is kept (24 h), not after", async () => {
    const { h, hook } = await setup();
    const body = '{"zen":"Keep it logically awesome."}';
    const headers = { github_signature: `sha256=${hmac(hook.secret, body)}`, github_delivery: "gh-1" };
    await h.service.call("hooks.deliver", { id: hook.id, body, headers });
    await h.advance(WEBHOOK_DELIVERY_RETENTION_MS, 60 * 60_000);
    expect((await refusal(h.service.call("hooks.deliver", { id: hook.id, body, headers }))).code).toBe(
      "CONFLICT",
    );
    await h.advance(1000);
    // The trade-off of a scheme without a timestamp: an id forgotten is new again.
    const again = await h.service.call("hooks.deliver", { id: hook.id, body, headers });
    expect(again.delivery).toBe("gh-1");
  });

  it("the list and get never show the secret; create does, once", async () => {
    const { h, hook } = await setup();
    expect(hook.secret).toMatch(/^whsec_/);
    const listed = await h.service.call("webhooks.list", {});
    expect(listed).toEqual([
      { id: hook.id, job: "job", created_at: hook.created_at, last_delivery_at: null, url: hook.url },
    ]);
    expect(JSON.stringify(await h.service.call("webhooks.get", { id: hook.id }))).not.toContain(hook.secret);
    expect(
      (await refusal(h.service.call("webhooks.create", { hook: { job: "job", secret: "mine" } }))).code,
    ).toBe("VALIDATION");
  });
});
