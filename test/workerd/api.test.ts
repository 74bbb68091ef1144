import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLER_CLIENT_HEADER, CALLER_INTERNAL_HEADER, CALLER_TOKEN_HEADER } from "../../shared/caller";
import { type AgentProcess, adminTokenOf, startAgent, waitFor } from "../helpers/agent-process";
import { type ApiTarget, apiSuite, type ErrorBody, send } from "../helpers/api-suite";
import { type CountingProxy, countingProxy } from "../helpers/counting-proxy";
import { tempDir } from "../helpers/tmp";

// One real control node process, reached two ways by the same suite: directly (its own /v1), and
// through edge/worker.ts running in workerd (wrangler's unstable_startWorker, wrangler.toml as is),
// with a counting proxy between the Worker and the node so every subrequest is seen.

type Worker = Awaited<ReturnType<typeof import("wrangler").unstable_startWorker>>;

const WRANGLER_TOML = fileURLToPath(new URL("../../wrangler.toml", import.meta.url));
const WRANGLER_LOG = join(tmpdir(), "dkron-workerd-test-wrangler.log");
const NODE = "edge-node";
const EDGE_NAME = "edge-test";
/** The node's service secret (--control-token), the Worker's CONTROL_TOKEN. */
const SECRET = randomBytes(16).toString("hex");

const dir = tempDir("dkron-workerd-");
const dataDir = join(dir.path, "data");
let agent: AgentProcess | undefined;
let proxy: CountingProxy | undefined;
let worker: Worker | undefined;
let workerUrl = "";
/** The node's first admin token, as a bearer header. */
let admin: Record<string, string> = {};

/** What a case may change in the Worker's bindings. */
interface BindingsOver {
  CONTROL_URL?: string;
  CONTROL_TOKEN?: string;
  EDGE_NAME?: string;
}

/** The bindings the Worker starts with, as wrangler.toml [vars] and a secret would give them. */
function bindings(over: BindingsOver = {}) {
  const plain = (value: string) => ({ type: "plain_text" as const, value });
  return {
    // With a trailing slash, as an operator may well write it.
    CONTROL_URL: plain(over.CONTROL_URL ?? `${proxy!.url}/`),
    EDGE_NAME: plain(over.EDGE_NAME ?? EDGE_NAME),
    CONTROL_TOKEN: { type: "secret_text" as const, value: over.CONTROL_TOKEN ?? SECRET },
  };
}

beforeAll(async () => {
  agent = await startAgent([
    "--bootstrap-expect",
    "1",
    "--data-dir",
    dataDir,
    "--node-name",
    NODE,
    "--control-token",
    SECRET,
  ]);
  admin = { authorization: `Bearer ${await adminTokenOf(dataDir)}` };
  // The run case needs the node's local runner connected.
  await waitFor("the local runner to connect", async () => {
    const r = await fetch(`${agent!.url}/v1/`, { headers: admin });
    const s = (await r.json()) as { serf?: { runners?: string } };
    return Number(s.serf?.runners) >= 1 ? true : undefined;
  });
  proxy = await countingProxy(agent.url);

  // Nothing leaves the machine: no metrics, no cf.json download. wrangler's debug log of the last run
  // is one file in the system temp dir, not one more per run in ~/.config (wrangler picks the path
  // when it loads, so it is imported after; not in `dir`, which is gone before its last lines land).
  process.env.WRANGLER_SEND_METRICS = "false";
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
  process.env.WRANGLER_LOG_PATH = WRANGLER_LOG;
  rmSync(WRANGLER_LOG, { force: true });
  const { unstable_startWorker } = await import("wrangler");
  worker = await unstable_startWorker({
    config: WRANGLER_TOML,
    bindings: bindings(),
    sendMetrics: false,
    dev: {
      server: { hostname: "127.0.0.1", port: 0 },
      inspector: false,
      watch: false,
      persist: false,
      logLevel: "error",
    },
  });
  await worker.ready;
  workerUrl = (await worker.url).origin;
}, 60_000);

afterAll(async () => {
  await worker?.dispose();
  await proxy?.close();
  await agent?.kill();
  dir.cleanup();
});

describe("/v1 on a control node process", () => {
  apiSuite(
    (): ApiTarget => ({
      baseUrl: agent!.url,
      headers: admin,
      prefix: "node",
      whom: NODE,
      nodeName: NODE,
    }),
  );
});

describe("/v1 through the Worker in workerd", () => {
  const target = (): ApiTarget => ({
    baseUrl: workerUrl,
    headers: admin,
    prefix: "worker",
    whom: EDGE_NAME,
    nodeName: NODE,
    controlCalls: () => proxy!.requests.length,
  });
  apiSuite(target);

  it("calls control with the service secret, passing the client's token and address as the caller's", async () => {
    const t = target();
    const theirs = t.headers.authorization;
    // A client cannot pose as the caller by sending the edge-to-control headers itself.
    await send(t, "GET", "/v1/jobs/worker-create", {
      headers: {
        [CALLER_TOKEN_HEADER]: "forged",
        [CALLER_CLIENT_HEADER]: "203.0.113.9",
        [CALLER_INTERNAL_HEADER]: "1",
      },
    });
    const seen = proxy!.requests.at(-1)!;
    expect(seen.method).toBe("POST");
    expect(seen.path).toBe("/_control/rpc/jobs.get");
    expect(seen.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(seen.headers[CALLER_TOKEN_HEADER]).toBe(theirs?.replace(/^Bearer /, ""));
    // CF-Connecting-IP: this test's own address, as wrangler dev sets it (Cloudflare does in production).
    expect(seen.headers[CALLER_CLIENT_HEADER]).toBe("127.0.0.1");
    expect(seen.headers[CALLER_INTERNAL_HEADER]).toBeUndefined();

    const probe = await send(t, "GET", "/v1/members", { headers: { authorization: "Bearer probe-token" } });
    expect((probe.body as ErrorBody).error.code).toBe("UNAUTHORIZED");
    const withToken = proxy!.requests.at(-1)!;
    expect(withToken.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(withToken.headers[CALLER_TOKEN_HEADER]).toBe("probe-token");
  });

  it("control's /_control/rpc wants the service secret, and the caller's token besides", async () => {
    const rpc = async (headers: Record<string, string>) => {
      const r = await fetch(`${agent!.url}/_control/rpc/jobs.list`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: "{}",
      });
      return { status: r.status, code: ((await r.json()) as Partial<ErrorBody>).error?.code };
    };
    const unauthorized = { status: 401, code: "UNAUTHORIZED" };
    const adminToken = admin.authorization!.replace(/^Bearer /, "");
    // No secret, a wrong one, or a user's token in its place.
    expect(await rpc({})).toEqual(unauthorized);
    expect(await rpc({ authorization: "Bearer wrong" })).toEqual(unauthorized);
    expect(await rpc({ authorization: `Bearer ${SECRET}x` })).toEqual(unauthorized);
    expect(await rpc({ ...admin, [CALLER_TOKEN_HEADER]: adminToken })).toEqual(unauthorized);
    // The secret alone is no caller: the edge's own credential opens no /v1 method.
    expect(await rpc({ authorization: `Bearer ${SECRET}` })).toEqual(unauthorized);
    expect(await rpc({ authorization: `Bearer ${SECRET}`, [CALLER_TOKEN_HEADER]: SECRET })).toEqual(
      unauthorized,
    );
    expect(await rpc({ authorization: `Bearer ${SECRET}`, [CALLER_TOKEN_HEADER]: adminToken })).toEqual({
      status: 200,
      code: undefined,
    });
  });

  it("passes control's 401 through intact when its CONTROL_TOKEN is wrong, and 503 when control is down", async () => {
    const t = target();
    try {
      await rebind({ CONTROL_TOKEN: "not-the-secret" });
      const r = await send(t, "GET", "/v1/jobs");
      expect(r.status).toBe(401);
      expect((r.body as ErrorBody).error).toMatchObject({
        code: "UNAUTHORIZED",
        message: "control-api: missing or wrong service secret",
      });

      await rebind({ CONTROL_URL: `http://127.0.0.1:${await closedPort()}` });
      const down = await send(t, "GET", "/v1/jobs", { control: 0 });
      expect(down.status).toBe(503);
      expect((down.body as ErrorBody).error.code).toBe("UNAVAILABLE");

      // Misconfigured, it serves nothing, /health included: it is live once /health is a 500.
      await rebind({ CONTROL_URL: "ftp://control.example" }, (r) => r.status === 500);
      const bad = await send(t, "GET", "/v1/jobs", { control: 0 });
      expect(bad.status).toBe(500);
      expect((bad.body as ErrorBody).error).toMatchObject({ code: "INTERNAL", field: "CONTROL_URL" });
    } finally {
      await rebind({});
    }
    expect((await send(t, "GET", "/v1/members")).status).toBe(200);
  });
});

let reloads = 0;
/**
 * Restarts the Worker with `over` on top of the usual bindings and waits until it serves with them:
 * each reload gets an EDGE_NAME of its own, and /health (no control call) reports it once it is live
 * (or `live` says so, for a configuration that serves no route).
 */
async function rebind(over: BindingsOver, live?: (health: Response) => boolean): Promise<void> {
  const name = Object.keys(over).length === 0 ? EDGE_NAME : `${EDGE_NAME}-${++reloads}`;
  await worker!.patchConfig({ bindings: bindings({ EDGE_NAME: name, ...over }) });
  await waitFor(`the Worker to serve as ${name}`, async () => {
    const r = await fetch(`${workerUrl}/health`);
    await r.text();
    return (live ? live(r) : r.headers.get("x-whom") === name) ? true : undefined;
  });
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
