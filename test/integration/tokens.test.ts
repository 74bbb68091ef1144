import { afterEach, describe, expect, it } from "vitest";
import { listTokens } from "../../control/store/token-queries";
import { type ApiHarness, apiHarness } from "../helpers/api-harness";
import { ControlHarness } from "../helpers/control-harness";

// Tokens, scopes, prefixes, expiry, revocation, the failed-auth limit and the audit log through the
// real edge app and control service over a real one-voter Raft and SQLite, on virtual time.

type ErrorBody = { error: { code: string; message: string; field?: string } };

let h: ControlHarness;
let api: ApiHarness;
afterEach(async () => {
  await h?.close();
});

async function start(auditRetentionMs?: number) {
  h = await ControlHarness.start({
    auth: "tokens",
    runners: ["r1"],
    ...(auditRetentionMs === undefined ? {} : { auditRetentionMs }),
  });
  api = apiHarness(h);
  return h.adminToken();
}

async function call(
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; client?: string; via?: "app" | "worker" } = {},
): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.client) headers["x-test-client"] = opts.client;
  const res = (opts.via === "worker" ? api.worker : api.app).request(path, {
    method,
    headers,
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
  await h.settle();
  return res;
}

const job = (name: string) => ({
  name,
  schedule: "@manually",
  executor: "shell",
  executor_config: { command: "true" },
});

async function mint(admin: string, body: Record<string, unknown>): Promise<{ id: string; token: string }> {
  const r = await call("POST", "/v1/tokens", { token: admin, body });
  expect(r.status).toBe(201);
  return (await r.json()) as { id: string; token: string };
}

/** Every row of the tables a refused request must not touch. */
function stateDump() {
  const q = (t: string) => h.state.sqlite.prepare(`SELECT * FROM ${t} ORDER BY 1`).all();
  return { jobs: q("jobs"), executions: q("executions"), tokens: q("tokens") };
}

describe("API tokens", () => {
  it("refuses a request without a token or with a bad one with 401, through the node and the Worker's path", async () => {
    await start();
    for (const via of ["app", "worker"] as const) {
      const none = await call("GET", "/v1/jobs", { via });
      expect(none.status).toBe(401);
      expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(((await none.json()) as ErrorBody).error.code).toBe("UNAUTHORIZED");
      for (const bad of ["", "nope", "dkt.AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"]) {
        expect((await call("GET", "/v1/jobs", { via, token: bad })).status).toBe(401);
      }
    }
    // /health needs nothing.
    expect((await call("GET", "/health")).status).toBe(200);
  });

  it("shows a new token once, lists tokens without secrets, and the token works at once", async () => {
    const admin = await start();
    const created = await call("POST", "/v1/tokens", {
      token: admin,
      body: { name: "ci", scopes: ["write", "read"] },
    });
    expect(created.status).toBe(201);
    const t = (await created.json()) as { id: string; token: string; scopes: string[]; name: string };
    expect(t.token).toMatch(/^dkt\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{32,}$/);
    expect(t.scopes).toEqual(["read", "write"]);
    const list = (await (await call("GET", "/v1/tokens", { token: admin })).json()) as Record<
      string,
      unknown
    >[];
    expect(list.map((x) => x.name)).toEqual(["admin-1", "ci"]);
    expect(JSON.stringify(list)).not.toContain(t.token.split(".")[2]);
    // Only the hash is stored.
    expect(JSON.stringify(listTokens(h.state))).not.toContain(t.token.split(".")[2]);
    expect((await call("POST", "/v1/jobs", { token: t.token, body: job("by-ci") })).status).toBe(201);
  });

  it("a read-only token lists but cannot create (403) and nothing changes", async () => {
    const admin = await start();
    expect((await call("POST", "/v1/jobs", { token: admin, body: job("existing") })).status).toBe(201);
    const ro = await mint(admin, { name: "viewer", scopes: ["read"] });
    const list = await call("GET", "/v1/jobs", { token: ro.token });
    expect(list.status).toBe(200);
    expect(((await list.json()) as unknown[]).length).toBe(1);
    const before = stateDump();
    for (const [method, path, body] of [
      ["POST", "/v1/jobs", job("sneaky")],
      ["DELETE", "/v1/jobs/existing", undefined],
      ["POST", "/v1/jobs/existing/run", undefined],
      ["POST", "/v1/jobs/existing/toggle", undefined],
      ["POST", "/v1/tokens", { name: "escalate", scopes: ["admin"] }],
      ["GET", "/v1/audit", undefined],
      ["POST", "/v1/pause", undefined],
    ] as const) {
      const r = await call(method, path, { token: ro.token, body });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(((await r.json()) as ErrorBody).error.code).toBe("FORBIDDEN");
    }
    expect(stateDump()).toEqual(before);
  });

  it("a prefix-limited token sees and touches only its jobs", async () => {
    const admin = await start();
    for (const n of ["team-a-x", "team-b-x"])
      expect((await call("POST", "/v1/jobs", { token: admin, body: job(n) })).status).toBe(201);
    const a = await mint(admin, { name: "team-a", scopes: ["write", "run"], prefix: "team-a-" });
    const names = (
      (await (await call("GET", "/v1/jobs", { token: a.token })).json()) as { name: string }[]
    ).map((j) => j.name);
    expect(names).toEqual(["team-a-x"]);
    expect((await call("POST", "/v1/jobs", { token: a.token, body: job("team-a-new") })).status).toBe(201);
    const before = stateDump();
    for (const [method, path, body] of [
      ["POST", "/v1/jobs", { ...job("team-a-y"), parent_job: "other-child" }],
      ["POST", "/v1/jobs", job("team-b-new")],
      ["GET", "/v1/jobs/team-b-x", undefined],
      ["DELETE", "/v1/jobs/team-b-x", undefined],
      ["POST", "/v1/jobs/team-b-x/run", undefined],
      ["GET", "/v1/jobs/team-b-x/executions", undefined],
    ] as const) {
      expect((await call(method, path, { token: a.token, body })).status, `${method} ${path}`).toBe(403);
    }
    expect(stateDump()).toEqual(before);
    // A child links to its parent: a parent outside the prefix is refused, and a parent's dependents
    // outside the prefix are not shown.
    expect(
      (
        await call("POST", "/v1/jobs", {
          token: admin,
          body: { ...job("other-child"), parent_job: "team-a-x" },
        })
      ).status,
    ).toBe(201);
    const parent = (await (await call("GET", "/v1/jobs/team-a-x", { token: a.token })).json()) as {
      dependent_jobs: string[];
    };
    expect(parent.dependent_jobs ?? []).toEqual([]);
    expect(
      (
        (await (await call("GET", "/v1/jobs/team-a-x", { token: admin })).json()) as {
          dependent_jobs: string[];
        }
      ).dependent_jobs,
    ).toEqual(["other-child"]);
    const beforeChild = stateDump();
    expect(
      (
        await call("POST", "/v1/jobs", {
          token: a.token,
          body: { ...job("team-a-c"), parent_job: "team-b-x" },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await call("POST", "/v1/jobs", {
          token: a.token,
          body: { ...job("team-a-c"), parent_job: "no-such-job" },
        })
      ).status,
    ).toBe(403);
    expect(stateDump()).toEqual(beforeChild);
    // A restore with one job outside the prefix is refused whole.
    const form = new FormData();
    form.append("file", JSON.stringify([job("team-a-r"), job("team-b-r")]));
    const restore = await api.app.request("/v1/restore", {
      method: "POST",
      headers: { authorization: `Bearer ${a.token}` },
      body: form,
    });
    await h.settle();
    expect(restore.status).toBe(403);
    expect(stateDump()).toEqual(beforeChild);
    // An admin token cannot be limited to a prefix (it could mint an unlimited one).
    const bad = await call("POST", "/v1/tokens", {
      token: admin,
      body: { name: "x", scopes: ["admin"], prefix: "team-" },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorBody).error.field).toBe("prefix");
  });

  it("names the bad field of a token request and creates nothing", async () => {
    const admin = await start();
    const before = stateDump();
    for (const [body, field] of [
      [{ scopes: ["read"] }, "name"],
      [{ name: "x" }, "scopes"],
      [{ name: "x", scopes: ["root"] }, "scopes.0"],
      [{ name: "x", scopes: [] }, "scopes"],
      [{ name: "x", scopes: ["read"], expires_in: "soon" }, "expires_in"],
      [{ name: "x", scopes: ["read"], extra: 1 }, ""],
    ] as const) {
      const r = await call("POST", "/v1/tokens", { token: admin, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      if (field) expect(((await r.json()) as ErrorBody).error.field).toBe(field);
    }
    expect(stateDump()).toEqual(before);
  });

  it("a revoked token fails at once; an expired one fails at its expiry", async () => {
    const admin = await start();
    const t = await mint(admin, { name: "short", scopes: ["read"], expires_in: "1h" });
    expect((await call("GET", "/v1/jobs", { token: t.token })).status).toBe(200);
    await h.advance(3_600_000);
    const expired = await call("GET", "/v1/jobs", { token: t.token });
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as ErrorBody).error.message).toMatch(/expired/);

    const r = await mint(admin, { name: "revokee", scopes: ["read"] });
    expect((await call("GET", "/v1/jobs", { token: r.token })).status).toBe(200);
    expect((await call("DELETE", `/v1/tokens/${r.id}`, { token: admin })).status).toBe(200);
    expect((await call("GET", "/v1/jobs", { token: r.token })).status).toBe(401);
    expect((await call("DELETE", `/v1/tokens/${r.id}`, { token: admin })).status).toBe(404);
  });

  it("limits repeated failures from one client with 429 and Retry-After, leaving other clients alone", async () => {
    const admin = await start();
    for (let i = 0; i < 20; i++)
      expect((await call("GET", "/v1/jobs", { token: `bad-${i}`, client: "10.0.0.9" })).status).toBe(401);
    const limited = await call("GET", "/v1/jobs", { token: admin, client: "10.0.0.9" });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await call("GET", "/v1/jobs", { token: admin, client: "10.0.0.10" })).status).toBe(200);
    await h.advance(60_000);
    expect((await call("GET", "/v1/jobs", { token: admin, client: "10.0.0.9" })).status).toBe(200);
  });

  it("records last use in one batched write, not a log entry per request", async () => {
    const admin = await start();
    const t = await mint(admin, { name: "busy", scopes: ["read"] });
    const before = h.consensus.status().lastLogIndex;
    for (let i = 0; i < 25; i++) expect((await call("GET", "/v1/jobs", { token: t.token })).status).toBe(200);
    expect(h.consensus.status().lastLogIndex).toBe(before);
    const uses = h.auth.takeUses();
    expect(uses.map((u) => u.id)).toContain(t.id);
    const touched = await h.service.call("tokens.touch", { uses }, { client: "", internal: true });
    expect(touched).toEqual({ recorded: uses.length });
    const row = listTokens(h.state).find((x) => x.id === t.id);
    expect(row?.lastUsedAt).toBe(h.clock.now());
    // An API client cannot call the internal method, whatever its token.
    expect(
      await h.service.call("tokens.touch", { uses }, { client: "", token: admin }).catch((e) => e.code),
    ).toBe("FORBIDDEN");
  });

  it("starting runs is the run scope's: runoncreate and webhooks need it besides write", async () => {
    const admin = await start();
    const w = await mint(admin, { name: "writer-only", scopes: ["write"] });
    const before = stateDump();
    expect((await call("POST", "/v1/jobs?runoncreate", { token: w.token, body: job("roc") })).status).toBe(
      403,
    );
    expect(stateDump()).toEqual(before);
    expect((await call("POST", "/v1/jobs", { token: w.token, body: job("roc") })).status).toBe(201);
    expect((await call("POST", "/v1/webhooks", { token: w.token, body: { job: "roc" } })).status).toBe(403);
    const wr = await mint(admin, { name: "writer-runner", scopes: ["write", "run"] });
    expect((await call("POST", "/v1/webhooks", { token: wr.token, body: { job: "roc" } })).status).toBe(201);
  });
});

describe("the audit log", () => {
  it("records each change with token, action, target, client and outcome, filterable, admin only", async () => {
    const admin = await start();
    const w = await mint(admin, { name: "writer", scopes: ["write"] });
    await call("POST", "/v1/jobs", { token: w.token, body: job("p"), client: "10.1.1.1" });
    await call("POST", "/v1/jobs", {
      token: w.token,
      body: { ...job("c"), parent_job: "p" },
      client: "10.1.1.1",
    });
    await call("POST", "/v1/jobs", { token: w.token, body: job("p"), client: "10.1.1.1" });
    // Refused by the state machine (a parent with a dependent cannot be deleted): recorded with its code.
    expect((await call("DELETE", "/v1/jobs/p", { token: w.token, client: "10.1.1.1" })).status).toBe(409);
    await call("POST", "/v1/pause", { token: admin });
    await call("POST", "/v1/unpause", { token: admin });

    const all = await call("GET", "/v1/audit", { token: admin });
    expect(all.status).toBe(200);
    const items = (await all.json()) as Record<string, string>[];
    const mine = items.filter((i) => i.token_name === "writer");
    expect(mine.map((i) => [i.action, i.target, i.outcome, i.detail, i.client])).toEqual([
      ["jobs.delete", "p", "CONFLICT", expect.stringMatching(/dependent/), "10.1.1.1"],
      ["jobs.put", "p", "ok", "updated", "10.1.1.1"],
      ["jobs.put", "c", "ok", "created", "10.1.1.1"],
      ["jobs.put", "p", "ok", "created", "10.1.1.1"],
    ]);
    expect(items.some((i) => i.action === "tokens.create" && i.token_name === "admin-1")).toBe(true);
    expect(items.filter((i) => i.action === "pause.set").map((i) => i.detail)).toEqual([
      "unpaused",
      "paused",
    ]);
    const forJob = (await (await call("GET", "/v1/audit?job=c", { token: admin })).json()) as unknown[];
    expect(forJob.length).toBe(1);
    const byToken = await call("GET", `/v1/audit?token=${w.id}&_start=0&_end=2`, { token: admin });
    expect(byToken.headers.get("x-total-count")).toBe("4");
    expect(((await byToken.json()) as unknown[]).length).toBe(2);
    const since = await call("GET", `/v1/audit?since=${h.clock.now() + 1}`, { token: admin });
    expect(await since.json()).toEqual([]);
    expect((await call("GET", "/v1/audit?since=yesterday", { token: admin })).status).toBe(400);
    expect((await call("GET", "/v1/audit", { token: w.token })).status).toBe(403);
  });

  it("drops records past the retention with the next audited change", async () => {
    const admin = await start(600_000);
    await call("POST", "/v1/jobs", { token: admin, body: job("old") });
    await h.advance(601_000);
    await call("POST", "/v1/jobs", { token: admin, body: job("new") });
    const items = (await (await call("GET", "/v1/audit", { token: admin })).json()) as { target: string }[];
    expect(items.map((i) => i.target)).toEqual(["new"]);
  });
});
