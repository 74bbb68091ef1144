/**
 * Signed webhooks through the real node in-process: the edge's /v1 and /hooks routes → control-api →
 * Raft (one voter) and SQLite → the WebSocket hub → the node's own local runner, which runs real
 * shell jobs. Signatures are made here as a sender would (openssl's HMAC, via node:crypto).
 */
import { spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentConfigSchema } from "../../control/config";
import { createControlNode, type World } from "../../control/main";
import type { ControlNode } from "../../control/node";
import { systemClock } from "../../shared/clock";
import { silentLogger } from "../../shared/logger";
import type { CreatedWebhookJson, DeliveryJson, WebhookJson } from "../../shared/webhook";
import { adminTokenOf, waitFor } from "../helpers/agent-process";
import { tempDir } from "../helpers/tmp";

let node: ControlNode;
let base = "";
/** The first start's admin token: /v1 calls need a token, POST /hooks/:id never does. */
let admin = "";
const dir = tempDir("dkron-hooks-");
/** Bodies an http job posted to this server. */
const received: string[] = [];
let sink: Server;
let sinkUrl = "";

beforeAll(async () => {
  const world: World = {
    clock: systemClock,
    logger: silentLogger,
    random: Math.random,
    secret: () => randomBytes(24).toString("base64url"),
    fetch: (input, init) => globalThis.fetch(input, init),
    spawn,
    announce: () => undefined,
  };
  node = createControlNode(
    AgentConfigSchema.parse({
      server: true,
      bootstrap_expect: 1,
      node_name: "hooks-node",
      data_dir: join(dir.path, "data"),
      http_addr: "127.0.0.1:0",
      runner_settle: 2000,
    }),
    world,
  );
  await node.start();
  base = `http://${node.address}`;
  admin = await adminTokenOf(join(dir.path, "data"));
  sink = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      received.push(body);
      res.end("stored");
    });
  });
  await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
  sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/in`;
});

afterAll(async () => {
  await node.stop();
  sink.closeAllConnections();
  await new Promise((r) => sink.close(r));
  dir.cleanup();
});

interface Exec {
  id: string;
  state: string;
  success: boolean;
  output: string;
  trigger: string;
}
type ErrorBody = { error: { code: string; message: string } };

const json = (method: string, path: string, body?: unknown, token = admin) =>
  fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
const get = (path: string, token = admin) =>
  fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });

async function job(
  name: string,
  executor_config: Record<string, string>,
  extra: Record<string, unknown> = {},
) {
  const r = await json("POST", "/v1/jobs", {
    name,
    schedule: "@manually",
    executor: extra.executor ?? "shell",
    executor_config,
    ...extra,
  });
  expect(r.status, await r.clone().text()).toBe(201);
}

async function createHook(jobName: string): Promise<CreatedWebhookJson> {
  const r = await json("POST", "/v1/webhooks", { job: jobName });
  expect(r.status, await r.clone().text()).toBe(201);
  return (await r.json()) as CreatedWebhookJson;
}

const hmac = (secret: string, text: string) => createHmac("sha256", secret).update(text).digest("hex");

/** POSTs `body` to a hook signed with our scheme (timestamp now unless told). */
function deliver(
  hook: { url: string; secret: string },
  body: string,
  opts: { ts?: number; secret?: string; headers?: Record<string, string> } = {},
) {
  const ts = String(opts.ts ?? Math.floor(Date.now() / 1000));
  return fetch(hook.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "X-Dkron-Timestamp": ts,
      "X-Dkron-Signature": `sha256=${hmac(opts.secret ?? hook.secret, `${ts}.${body}`)}`,
      ...opts.headers,
    },
    body,
  });
}

async function executions(name: string): Promise<Exec[]> {
  return (await (await get(`/v1/jobs/${name}/executions`)).json()) as Exec[];
}

async function finished(name: string, n = 1): Promise<Exec[]> {
  return waitFor(`${n} finished execution(s) of ${name}`, async () => {
    const done = (await executions(name)).filter((e) => e.state !== "running");
    return done.length >= n ? done : undefined;
  });
}

describe("signed webhooks (real node, real local runner)", () => {
  it("a signed webhook call runs its job and its replay is rejected", async () => {
    await job("on-push", { command: 'cat "$DKRON_WEBHOOK_PAYLOAD"', shell: "true" });
    const hook = await createHook("on-push");
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9_-]{32,}$/);
    expect(hook.url).toBe(`${base}/hooks/${hook.id}`);
    expect(hook.job).toBe("on-push");

    // The secret is shown once: never by list or get.
    const list = (await (await get("/v1/webhooks?job=on-push")).json()) as WebhookJson[];
    expect(list).toEqual([
      { id: hook.id, job: "on-push", created_at: hook.created_at, last_delivery_at: null, url: hook.url },
    ]);
    expect(JSON.stringify(await (await get(`/v1/webhooks/${hook.id}`)).json())).not.toContain(hook.secret);

    const body = `{"ref":"refs/heads/main","note":"it's \\"quoted\\" $(not run)"}`;
    const ts = Math.floor(Date.now() / 1000);
    const res = await deliver(hook, body, { ts });
    expect(res.status, await res.clone().text()).toBe(202);
    const accepted = (await res.json()) as DeliveryJson;
    expect(accepted.job).toBe("on-push");
    expect(accepted.executions).toEqual([accepted.execution_id]);
    expect(accepted.delivery).toBe(hmac(hook.secret, `${ts}.${body}`));

    const [e] = await finished("on-push");
    expect(e).toMatchObject({ id: accepted.execution_id, success: true, trigger: "webhook", output: body });

    // The same request again: refused, and nothing more runs.
    const replay = await deliver(hook, body, { ts });
    expect(replay.status).toBe(409);
    expect(((await replay.json()) as ErrorBody).error).toMatchObject({
      code: "CONFLICT",
      message: `delivery ${accepted.delivery} of hook ${hook.id} was already accepted`,
    });
    expect(await executions("on-push")).toHaveLength(1);
    const after = (await (await get(`/v1/webhooks/${hook.id}`)).json()) as WebhookJson;
    expect(after.last_delivery_at).not.toBeNull();
  });

  it("a named delivery id is the replay key: a new signature does not make it new", async () => {
    await job("named", { command: 'cat "$DKRON_WEBHOOK_PAYLOAD"', shell: "true" });
    const hook = await createHook("named");
    const first = await deliver(hook, "one", { headers: { "X-Dkron-Delivery": "evt-1" } });
    expect(first.status).toBe(202);
    const again = await deliver(hook, "two", { headers: { "X-Dkron-Delivery": "evt-1" } });
    expect(again.status).toBe(409);
    expect((await deliver(hook, "two", { headers: { "X-Dkron-Delivery": "evt-2" } })).status).toBe(202);
    expect((await finished("named", 2)).map((e) => e.output).sort()).toEqual(["one", "two"]);
  });

  it("the same signed bytes under a fresh, unsigned delivery id are still a replay (both schemes)", async () => {
    await job("resent", { command: 'cat "$DKRON_WEBHOOK_PAYLOAD"', shell: "true" });
    const hook = await createHook("resent");
    const ts = Math.floor(Date.now() / 1000);
    expect((await deliver(hook, "once", { ts, headers: { "X-Dkron-Delivery": "a-1" } })).status).toBe(202);
    for (const id of ["a-2", "a-3"])
      expect((await deliver(hook, "once", { ts, headers: { "X-Dkron-Delivery": id } })).status, id).toBe(409);
    const gh = (id: string) =>
      fetch(hook.url, {
        method: "POST",
        headers: { "X-Hub-Signature-256": `sha256=${hmac(hook.secret, "gh-body")}`, "X-GitHub-Delivery": id },
        body: "gh-body",
      });
    expect((await gh("g1")).status).toBe(202);
    expect((await gh("g2")).status).toBe(409);
    expect((await finished("resent", 2)).map((e) => e.output).sort()).toEqual(["gh-body", "once"]);
  });

  it("refuses a bad signature, an unknown hook, a stale timestamp, a disabled job and a big body; nothing runs", async () => {
    await job("guarded", { command: "echo ran" });
    const hook = await createHook("guarded");
    const cases: [string, Promise<Response>, number, string][] = [
      ["wrong secret", deliver(hook, "{}", { secret: "whsec_guess" }), 401, "UNAUTHORIZED"],
      ["no signature", fetch(hook.url, { method: "POST", body: "{}" }), 401, "UNAUTHORIZED"],
      ["unknown hook", deliver({ ...hook, url: `${base}/hooks/nope` }, "{}"), 404, "NOT_FOUND"],
      ["stale", deliver(hook, "{}", { ts: Math.floor(Date.now() / 1000) - 3600 }), 401, "UNAUTHORIZED"],
      ["2 MiB body", deliver(hook, "x".repeat(2 * 1024 * 1024)), 413, "TOO_LARGE"],
    ];
    for (const [what, pending, status, code] of cases) {
      const r = await pending;
      expect(r.status, what).toBe(status);
      const err = ((await r.json()) as ErrorBody).error;
      expect(err.code, what).toBe(code);
      if (what === "stale") expect(err.message).toContain("within 5 minutes");
    }
    await json("POST", "/v1/jobs/guarded/toggle");
    const disabled = await deliver(hook, "{}");
    expect(disabled.status).toBe(409);
    expect(((await disabled.json()) as ErrorBody).error.message).toContain("is disabled");
    expect(await executions("guarded")).toEqual([]);
  });

  it("accepts GitHub's X-Hub-Signature-256 keyed on X-GitHub-Delivery; an http job gets the body", async () => {
    await job("gh", { url: sinkUrl, method: "POST" }, { executor: "http" });
    const hook = await createHook("gh");
    const body = '{"action":"opened"}';
    const send = () =>
      fetch(hook.url, {
        method: "POST",
        headers: {
          "X-Hub-Signature-256": `sha256=${hmac(hook.secret, body)}`,
          "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
          "X-GitHub-Event": "pull_request",
        },
        body,
      });
    const r = await send();
    expect(r.status, await r.clone().text()).toBe(202);
    expect(((await r.json()) as DeliveryJson).delivery).toBe("72d3162e-cc78-11e3-81ab-4c9367dc0958");
    const [e] = await finished("gh");
    expect(e).toMatchObject({ success: true, output: "stored" });
    expect(received).toContain(body);
    expect((await send()).status).toBe(409);
  });

  it("managing hooks needs a token: write on the hook's job (within its prefix), read to list; delivering needs none", async () => {
    await job("team-a-build", { command: "true" });
    await job("team-b-build", { command: "true" });
    const mint = async (token: Record<string, unknown>) => {
      const r = await json("POST", "/v1/tokens", token);
      expect(r.status, await r.clone().text()).toBe(201);
      return ((await r.json()) as { token: string }).token;
    };
    const reader = await mint({ name: "hooks-reader", scopes: ["read"] });
    const teamA = await mint({ name: "team-a", scopes: ["write", "run"], prefix: "team-a-" });

    expect((await json("POST", "/v1/webhooks", { job: "team-a-build" }, "")).status).toBe(401);
    expect((await json("POST", "/v1/webhooks", { job: "team-a-build" }, reader)).status).toBe(403);
    expect((await json("POST", "/v1/webhooks", { job: "team-b-build" }, teamA)).status).toBe(403);
    const mine = await json("POST", "/v1/webhooks", { job: "team-a-build" }, teamA);
    expect(mine.status).toBe(201);
    const hookA = (await mine.json()) as CreatedWebhookJson;
    const hookB = await createHook("team-b-build");

    // A prefix token sees, gets and deletes only its jobs' hooks; a reader lists all but changes none.
    const listed = (token: string) =>
      get("/v1/webhooks", token).then(async (r) => ((await r.json()) as WebhookJson[]).map((h) => h.id));
    expect(await listed(teamA)).toEqual([hookA.id]);
    expect(await listed(reader)).toEqual(expect.arrayContaining([hookA.id, hookB.id]));
    expect((await get(`/v1/webhooks/${hookB.id}`, teamA)).status).toBe(403);
    expect((await json("DELETE", `/v1/webhooks/${hookB.id}`, undefined, teamA)).status).toBe(403);
    expect((await json("DELETE", `/v1/webhooks/${hookA.id}`, undefined, reader)).status).toBe(403);

    // The delivery carries no token at all, and is audited as the hook.
    expect((await deliver(hookB, "{}")).status).toBe(202);
    const audit = (await (await get("/v1/audit?target=team-b-build")).json()) as {
      action: string;
      token_id: string;
      outcome: string;
    }[];
    expect(audit).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: "hooks.deliver", token_id: `hook:${hookB.id}`, outcome: "ok" }),
      ]),
    );
  });

  it("deleting a hook (or its job) makes its URL unknown", async () => {
    await job("short-lived", { command: "true" });
    const a = await createHook("short-lived");
    const b = await createHook("short-lived");
    expect((await json("DELETE", `/v1/webhooks/${a.id}`)).status).toBe(200);
    expect((await deliver(a, "{}")).status).toBe(404);
    expect((await json("DELETE", "/v1/jobs/short-lived")).status).toBe(200);
    expect((await deliver(b, "{}")).status).toBe(404);
    expect(((await (await get("/v1/webhooks?job=short-lived")).json()) as unknown[]).length).toBe(0);
    expect((await json("POST", "/v1/webhooks", { job: "never-was" })).status).toBe(404);
  });
});
