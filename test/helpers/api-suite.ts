import { createHmac } from "node:crypto";
import { expect, it } from "vitest";
import { waitFor } from "./agent-process";

/** Where the suite's requests go: a control node's own /v1, or a Worker in front of one. */
export interface ApiTarget {
  /** Base URL of the /v1 app, e.g. http://127.0.0.1:8787 */
  baseUrl: string;
  /** Sent on every request: the node's admin token (its `<data-dir>/admin-token`) as a bearer. */
  headers: Record<string, string>;
  /** Prefix of the suite's job names, so targets sharing a control node keep apart. */
  prefix: string;
  /** X-Whom the target answers with (the node's name, or the Worker's EDGE_NAME). */
  whom: string;
  /** Name of the control node behind it, as /v1/members lists it. */
  nodeName: string;
  /**
   * Requests the control node has received from this target so far, where the test can see them
   * (a Worker's subrequests, through a counting proxy); each call is then checked to make exactly the
   * number of control round-trips it should.
   */
  controlCalls?: () => number;
}

/** A response read whole: status, headers and the body parsed as JSON (or null). */
export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** The error body every failure has: {"error": {code, message, ...details}}. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string; limit?: number };
}

/** How one request is sent: its body, extra headers, and the control round-trips it must make. */
export interface SendOptions {
  /** JSON-encoded unless a string. */
  body?: unknown;
  /** How many requests control must receive for it (default 1), where the target can count them. */
  control?: number;
  /** On top of the target's headers (or instead of them, with `anonymous`). */
  headers?: Record<string, string>;
  /** Leaves out the target's headers, so no token is sent. */
  anonymous?: boolean;
}

/** Sends one request to the target and reads the answer whole. */
export async function send(
  t: ApiTarget,
  method: string,
  path: string,
  opts: SendOptions = {},
): Promise<Answer> {
  const before = t.controlCalls?.();
  const body =
    opts.body === undefined
      ? undefined
      : typeof opts.body === "string"
        ? opts.body
        : JSON.stringify(opts.body);
  const res = await fetch(`${t.baseUrl}${path}`, {
    method,
    headers: {
      ...(body !== undefined && { "content-type": "application/json" }),
      ...(!opts.anonymous && t.headers),
      ...opts.headers,
    },
    ...(body !== undefined && { body }),
  });
  const text = await res.text();
  if (before !== undefined) {
    // Counted once the answer is in: the edge has made every call it was going to make for it.
    expect(t.controlCalls!() - before, `control round-trips for ${method} ${path}`).toBe(opts.control ?? 1);
  }
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: the test sees null and fails on what it expected.
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** A shell job that echoes its name, run only on demand. */
function shellJob(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    schedule: "@manually",
    executor: "shell",
    executor_config: { command: `echo ${name}` },
    ...extra,
  };
}

/**
 * The /v1 paths a user hits, registered as `it` cases against `target()` (called once the target is
 * up, in each case). One suite for every host of createApp: a control node's own /v1, and the
 * Worker in workerd in front of a control node. The target's control node must have a connected
 * runner before the suite runs (the run case needs one).
 */
export function apiSuite(target: () => ApiTarget): void {
  it("answers /health from the edge itself, with X-Whom", async () => {
    const t = target();
    const r = await send(t, "GET", "/health", { control: 0 });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: "healthy" });
    expect(r.headers.get("x-whom")).toBe(t.whom);
  });

  it("creates a job (201, Location), gets it, and lists it with X-Total-Count", async () => {
    const t = target();
    const name = `${t.prefix}-create`;
    const created = await send(t, "POST", "/v1/jobs", { body: shellJob(name, { metadata: { team: "a" } }) });
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe(`/v1/jobs/${name}`);
    expect(created.body).toMatchObject({ name, schedule: "@manually", executor: "shell" });

    const got = await send(t, "GET", `/v1/jobs/${name}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ name, metadata: { team: "a" }, disabled: false });

    await send(t, "POST", "/v1/jobs", { body: shellJob(`${t.prefix}-create-2`) });
    const list = await send(t, "GET", `/v1/jobs?q=${t.prefix}-create&_sort=id&_order=ASC`);
    expect(list.status).toBe(200);
    expect(list.headers.get("x-total-count")).toBe("2");
    expect((list.body as { name: string }[]).map((j) => j.name)).toEqual([name, `${name}-2`]);
  });

  it("a missing job is 404 NOT_FOUND with control's message", async () => {
    const t = target();
    const r = await send(t, "GET", `/v1/jobs/${t.prefix}-ghost`);
    expect(r.status).toBe(404);
    const { error } = r.body as ErrorBody;
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain(`${t.prefix}-ghost`);
  });

  it("a bad job is 400 VALIDATION naming the field, and nothing is stored", async () => {
    const t = target();
    const name = `${t.prefix}-bad`;
    const r = await send(t, "POST", "/v1/jobs", { body: shellJob(name, { schedule: "61 * * * * *" }) });
    expect(r.status).toBe(400);
    const { error } = r.body as ErrorBody;
    expect(error).toMatchObject({ code: "VALIDATION", field: "schedule" });
    expect(error.message.length).toBeGreaterThan(0);
    expect((await send(t, "GET", `/v1/jobs/${name}`)).status).toBe(404);
  });

  it("a 2 MiB body is 413 TOO_LARGE at the edge, before control sees it", async () => {
    const t = target();
    const name = `${t.prefix}-too-big`;
    const big = shellJob(name, { metadata: { pad: "x".repeat(2 * 1024 * 1024) } });
    const r = await send(t, "POST", "/v1/jobs", { body: big, control: 0 });
    expect(r.status).toBe(413);
    expect((r.body as ErrorBody).error).toMatchObject({ code: "TOO_LARGE", limit: 1024 * 1024 });
    expect((await send(t, "GET", `/v1/jobs/${name}`)).status).toBe(404);
  });

  it("runs a job and shows its execution", async () => {
    const t = target();
    const name = `${t.prefix}-run`;
    expect((await send(t, "POST", "/v1/jobs", { body: shellJob(name) })).status).toBe(201);
    expect((await send(t, "POST", `/v1/jobs/${name}/run`)).status).toBe(200);
    const [e] = await waitFor(`a finished execution of ${name}`, async () => {
      const r = await send(t, "GET", `/v1/jobs/${name}/executions`);
      expect(r.status).toBe(200);
      const done = (
        r.body as { state: string; success: boolean; output: string; node_name: string }[]
      ).filter((x) => x.state !== "running");
      return done.length > 0 ? done : undefined;
    });
    expect(e).toMatchObject({ success: true, output: `${name}\n`, node_name: t.nodeName });
  });

  it("toggles and deletes a job", async () => {
    const t = target();
    const name = `${t.prefix}-toggle`;
    await send(t, "POST", "/v1/jobs", { body: shellJob(name) });
    const off = await send(t, "POST", `/v1/jobs/${name}/toggle`);
    expect(off.status).toBe(200);
    expect((off.body as { disabled: boolean }).disabled).toBe(true);
    const on = await send(t, "POST", `/v1/jobs/${name}/toggle`);
    expect((on.body as { disabled: boolean }).disabled).toBe(false);
    const del = await send(t, "DELETE", `/v1/jobs/${name}`);
    expect(del.status).toBe(200);
    expect((del.body as { name: string }).name).toBe(name);
    expect((await send(t, "GET", `/v1/jobs/${name}`)).status).toBe(404);
    expect((await send(t, "DELETE", `/v1/jobs/${name}`)).status).toBe(404);
  });

  it("refuses a request with no token or a bad one (401 from control) and serves the admin token", async () => {
    const t = target();
    const tries: Record<string, string>[] = [{}, { authorization: "Bearer dkt.nope.nope" }];
    for (const headers of tries) {
      const r = await send(t, "GET", "/v1/jobs", { anonymous: true, headers });
      expect(r.status, JSON.stringify(headers)).toBe(401);
      expect((r.body as ErrorBody).error.code).toBe("UNAUTHORIZED");
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
      // A refused write changes nothing.
      const name = `${t.prefix}-anonymous`;
      const w = await send(t, "POST", "/v1/jobs", { anonymous: true, headers, body: shellJob(name) });
      expect(w.status).toBe(401);
      expect((await send(t, "GET", `/v1/jobs/${name}`)).status).toBe(404);
    }
    expect((await send(t, "GET", "/v1/jobs")).status).toBe(200);
  });

  it("serves signed /hooks: a delivery runs the job (202), a replay is 409, a bad signature 401", async () => {
    const t = target();
    const name = `${t.prefix}-hooked`;
    await send(t, "POST", "/v1/jobs", { body: shellJob(name) });
    const created = await send(t, "POST", "/v1/webhooks", { body: { job: name } });
    expect(created.status).toBe(201);
    const hook = created.body as { id: string; secret: string; url: string };
    // The hook's URL is on the origin the client called: the Worker's, through a Worker.
    expect(hook.url).toBe(`${t.baseUrl}/hooks/${hook.id}`);

    const body = JSON.stringify({ ref: "refs/heads/main" });
    const ts = String(Math.floor(Date.now() / 1000));
    const mac = createHmac("sha256", hook.secret).update(`${ts}.${body}`).digest("hex");
    const signed = { "x-dkron-timestamp": ts, "x-dkron-signature": `sha256=${mac}` };
    const delivered = await send(t, "POST", `/hooks/${hook.id}`, { anonymous: true, headers: signed, body });
    expect(delivered.status).toBe(202);
    expect(delivered.body).toMatchObject({ job: name, delivery: mac });
    const replay = await send(t, "POST", `/hooks/${hook.id}`, { anonymous: true, headers: signed, body });
    expect(replay.status).toBe(409);
    expect((replay.body as ErrorBody).error).toMatchObject({ code: "CONFLICT", field: "delivery" });
    const forged = await send(t, "POST", `/hooks/${hook.id}`, {
      anonymous: true,
      headers: { ...signed, "x-dkron-signature": `sha256=${"0".repeat(64)}` },
      body,
    });
    expect(forged.status).toBe(401);
    expect((forged.body as ErrorBody).error.code).toBe("UNAUTHORIZED");
    expect(forged.headers.get("www-authenticate")).toBeNull();
  });

  it("lists the control node in /v1/members with X-Total-Count", async () => {
    const t = target();
    const r = await send(t, "GET", "/v1/members");
    expect(r.status).toBe(200);
    expect(r.headers.get("x-total-count")).toBe("1");
    expect((r.body as { Name: string; statusText: string }[])[0]).toMatchObject({
      Name: t.nodeName,
      statusText: "alive",
    });
  });
}
