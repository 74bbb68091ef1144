import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { isAppError } from "../../shared/errors";
import { ControlHarness } from "../../test/helpers/control-harness";

// The control-api methods behind the dashboard, on the real one-voter control plane: who the caller
// is, recent runs for sparklines, the live tail, the overview's figures, and webhook rotation.

const harnesses: ControlHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

async function harness(auth: "off" | "tokens" = "off") {
  const h = await ControlHarness.start({ scheduler: false, auth });
  harnesses.push(h);
  return h;
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

/** Starts `job` by hand and returns the execution id the runner was sent. */
async function runOnce(h: ControlHarness, job: string, token?: string): Promise<string> {
  await h.service.call("jobs.run", { name: job }, token ? { client: "", token } : undefined);
  await h.settle();
  return h.hub.runs().at(-1)!.execution_id;
}

describe("tokens.self", () => {
  it("names the caller's token, scopes and prefix, and refuses a bad token", async () => {
    const h = await harness("tokens");
    const admin = await h.adminToken();
    const made = await h.service.call(
      "tokens.create",
      { token: { name: "team-a", scopes: ["write"], prefix: "a-" } },
      { client: "", token: admin },
    );
    await h.settle();
    expect(await h.service.call("tokens.self", {}, { client: "", token: made.token })).toEqual({
      name: "team-a",
      scopes: ["write"],
      prefix: "a-",
      auth: true,
    });
    expect((await refusal(h.service.call("tokens.self", {}, { client: "", token: "dkt.nope" }))).code).toBe(
      "UNAUTHORIZED",
    );
  });
});

describe("dashboard.recent", () => {
  it("gives each job's newest runs with their durations, and leaves out jobs the token does not cover", async () => {
    const h = await harness("tokens");
    const admin = await h.adminToken();
    await h.put({ name: "a-job", schedule: "@manually" });
    await h.put({ name: "b-job", schedule: "@manually" });
    for (const [ms, success] of [
      [1500, true],
      [2500, false],
    ] as const) {
      const id = await runOnce(h, "a-job", admin);
      const at = h.clock.now();
      await h.finish(id, { success, started_at: at, finished_at: at + ms });
      await h.advance(10_000);
    }
    const all = await h.service.call(
      "dashboard.recent",
      { names: ["a-job", "b-job"], n: 20 },
      { client: "", token: admin },
    );
    expect(all["a-job"]!.map((r) => [r.state, r.ms])).toEqual([
      ["failed", 2500],
      ["success", 1500],
    ]);
    expect(all["b-job"]).toEqual([]);
    const scoped = await h.service.call(
      "tokens.create",
      { token: { name: "b-only", scopes: ["read"], prefix: "b-" } },
      { client: "", token: admin },
    );
    await h.settle();
    const seen = await h.service.call(
      "dashboard.recent",
      { names: ["a-job", "b-job"], n: 20 },
      { client: "", token: scoped.token },
    );
    expect(Object.keys(seen)).toEqual(["b-job"]);
  });
});

describe("executions.tail", () => {
  it("streams a running execution's output from an offset, then gives the final output once it is committed", async () => {
    const h = await harness();
    await h.put({ schedule: "@manually" });
    const id = await runOnce(h, "job");
    h.dispatcher.onOutput("r1", { type: "output", execution_id: id, seq: 0, data: "one\n" });
    h.dispatcher.onOutput("r1", { type: "output", execution_id: id, seq: 1, data: "two\n" });
    const first = await h.service.call("executions.tail", { job: "job", id, from: 0 });
    expect(first).toMatchObject({ running: true, text: "one\ntwo\n", offset: 8, skipped: 0 });
    // A reconnect resumes where the client left off: nothing twice.
    h.dispatcher.onOutput("r1", { type: "output", execution_id: id, seq: 2, data: "three\n" });
    expect(await h.service.call("executions.tail", { job: "job", id, from: first.offset })).toMatchObject({
      text: "three\n",
      offset: 14,
    });
    await h.finish(id, { output: "one\ntwo\nthree\n" });
    expect(await h.service.call("executions.tail", { job: "job", id, from: 14 })).toMatchObject({
      running: false,
      state: "success",
      output: "one\ntwo\nthree\n",
    });
    expect((await refusal(h.service.call("executions.tail", { job: "job", id: "nope", from: 0 }))).code).toBe(
      "NOT_FOUND",
    );
  });
});

describe("dashboard.overview", () => {
  it("counts jobs by status, the last day's runs per hour and failures, and the next day's fires per minute", async () => {
    const h = await harness();
    await h.put({ name: "hourly", schedule: "0 0 * * * *" });
    await h.put({ name: "quarter", schedule: "0 */15 * * * *", disabled: true });
    await h.put({ name: "manual", schedule: "@manually" });
    const id = await runOnce(h, "manual");
    await h.finish(id, { success: false });
    // Half past: the next day from here holds 24 top-of-the-hour fires.
    await h.advance(30 * 60_000, 60_000);
    const o = await h.service.call("dashboard.overview", {});
    expect(o.jobs).toEqual({
      total: 3,
      disabled: 1,
      by_status: { success: 0, failed: 1, partially_failed: 0, untriggered: 2 },
    });
    expect(o.failures_24h).toBe(1);
    expect(o.recent_failures[0]).toMatchObject({ job: "manual", id, state: "failed" });
    expect(o.per_hour).toHaveLength(24);
    expect(o.per_hour.reduce((a, r) => a + r.failed, 0)).toBe(1);
    // The disabled job does not fire; the hourly one fires 24 times in the next day, on the hour.
    expect(o.heatmap.minutes).toHaveLength(1440);
    expect(o.heatmap.minutes.reduce((a, n) => a + n, 0)).toBe(24);
    const from = Date.parse(o.heatmap.from);
    for (const [i, n] of o.heatmap.minutes.entries())
      if (n) expect(new Date(from + i * 60_000).getUTCMinutes(), `minute ${i}`).toBe(0);
  });
});

describe("webhooks.rotate", () => {
  it("gives the hook a new secret: deliveries signed with the old one are refused, the new one runs", async () => {
    const h = await harness();
    await h.put({ schedule: "@manually" });
    const hook = await h.service.call("webhooks.create", { hook: { job: "job" } });
    const rotated = await h.service.call("webhooks.rotate", { id: hook.id });
    expect(rotated.secret).not.toBe(hook.secret);
    expect(rotated.id).toBe(hook.id);
    const body = "{}";
    const sign = (secret: string) => {
      const timestamp = String(Math.floor(h.clock.now() / 1000));
      return {
        timestamp,
        signature: `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`,
      };
    };
    expect(
      (await refusal(h.service.call("hooks.deliver", { id: hook.id, body, headers: sign(hook.secret) })))
        .code,
    ).toBe("UNAUTHORIZED");
    const ok = await h.service.call("hooks.deliver", { id: hook.id, body, headers: sign(rotated.secret) });
    expect(ok.job).toBe("job");
    const deliveries = await h.service.call("webhooks.deliveries", { id: hook.id });
    expect(deliveries.map((d) => d.delivery)).toEqual([ok.delivery]);
  });
});
