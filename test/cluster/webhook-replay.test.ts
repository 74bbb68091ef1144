/**
 * Replay protection across a leader change, with three real `dkron agent` processes: a signed
 * delivery is accepted by the leader, the leader is SIGKILLed, and the very same request sent to
 * the new leader (and through a follower) is refused, because the accepted delivery id is in the
 * replicated state, not in the memory of the node that took it.
 */
import { createHmac } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import type { CreatedWebhookJson, DeliveryJson } from "../../shared/webhook";
import { waitFor } from "../helpers/agent-process";
import { getJson, TestCluster } from "../helpers/cluster";
import { tempDir } from "../helpers/tmp";

const dir = tempDir("dkron-hook-failover-");
let cluster: TestCluster | undefined;
afterAll(async () => {
  await cluster?.stop();
  dir.cleanup();
});

interface Exec {
  id: string;
  state: string;
  output: string;
  trigger: string;
}

describe("webhook replay across a leader change (real processes)", () => {
  it("refuses on the new leader a delivery the old one accepted, and runs nothing more", async () => {
    cluster = await TestCluster.start({ size: 3, baseDir: dir.path, profile: "fast" });
    const c = cluster;
    const leader = await c.waitForLeader();
    const post = (url: string, body: unknown) =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const created = await post(`${leader.url}/v1/jobs`, {
      name: "hooked",
      schedule: "@manually",
      executor: "shell",
      executor_config: { command: 'cat "$DKRON_WEBHOOK_PAYLOAD"', shell: "true" },
      tags: { server: "true:1" },
    });
    expect(created.status, await created.text()).toBe(201);
    const hookRes = await post(`${leader.url}/v1/webhooks`, { job: "hooked" });
    expect(hookRes.status).toBe(201);
    const hook = (await hookRes.json()) as CreatedWebhookJson;

    const body = '{"event":"deploy","sha":"4f2c9e1"}';
    const ts = String(Math.floor(Date.now() / 1000));
    const signature = `sha256=${createHmac("sha256", hook.secret).update(`${ts}.${body}`).digest("hex")}`;
    const deliver = (base: string) =>
      fetch(`${base}/hooks/${hook.id}`, {
        method: "POST",
        headers: { "X-Dkron-Timestamp": ts, "X-Dkron-Signature": signature },
        body,
        signal: AbortSignal.timeout(10_000),
      });
    const first = await deliver(leader.url);
    expect(first.status, await first.clone().text()).toBe(202);
    const accepted = (await first.json()) as DeliveryJson;

    // The delivery ran, with its payload, on some node's runner.
    const executions = (base: string) => getJson<Exec[]>(`${base}/v1/jobs/hooked/executions`);
    const ran = await waitFor("the delivered run to finish", async () => {
      const ex = await executions(leader.url);
      return ex?.length === 1 && ex[0]!.state !== "running" ? ex[0] : undefined;
    });
    expect(ran).toMatchObject({
      id: accepted.execution_id,
      state: "success",
      trigger: "webhook",
      output: body,
    });

    await c.kill(leader);
    const next = await c.waitForLeader(30_000);
    expect(next.name).not.toBe(leader.name);
    const follower = c.alive().find((n) => n !== next)!;

    for (const via of [next, follower]) {
      const replay = await deliver(via.url);
      expect(replay.status, `${via.name}: ${await replay.clone().text()}`).toBe(409);
      const err = ((await replay.json()) as { error: { code: string; message: string } }).error;
      expect(err).toMatchObject({
        code: "CONFLICT",
        message: `delivery ${accepted.delivery} of hook ${hook.id} was already accepted`,
      });
    }
    expect((await executions(next.url))?.map((e) => e.id)).toEqual([accepted.execution_id]);
  }, 60_000);
});
