import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentConfigSchema } from "../../control/config";
import { createControlNode, type World } from "../../control/main";
import type { ControlNode } from "../../control/node";
import { systemClock } from "../../shared/clock";
import { silentLogger } from "../../shared/logger";
import { adminTokenOf, fetchWithToken, waitFor } from "../helpers/agent-process";
import { tempDir } from "../helpers/tmp";

/** The real outside world, with a silent logger. */
function world(): World {
  return {
    clock: systemClock,
    logger: silentLogger,
    random: Math.random,
    secret: () => randomBytes(16).toString("hex"),
    fetch: (input, init) => globalThis.fetch(input, init),
    spawn,
    announce: () => undefined,
  };
}

// The real node in-process: edge /v1 app → control-api → state machine → WebSocket → local runner.
let node: ControlNode;
let base = "";
const dir = tempDir();

beforeAll(async () => {
  const config = AgentConfigSchema.parse({
    server: true,
    bootstrap_expect: 1,
    node_name: "api-node",
    data_dir: join(dir.path, "data"),
    http_addr: "127.0.0.1:0",
    tags: { zone: "z1" },
    runner_settle: 2000,
  });
  node = createControlNode(config, world());
  await node.start();
  base = `http://${node.address}`;
  token = await adminTokenOf(config.data_dir);
});

// The embedded default checks tokens: every call here carries the admin token the first start wrote.
let token = "";
const fetch = fetchWithToken(() => token);

afterAll(async () => {
  await node.stop();
  dir.cleanup();
});

const json = (method: string, path: string, body?: unknown) =>
  fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
const shell = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  schedule: "@manually",
  executor: "shell",
  executor_config: { command: `echo ${name}` },
  ...extra,
});

async function finished(job: string, n = 1) {
  return waitFor(`${n} finished execution(s) of ${job}`, async () => {
    const ex = (await (await fetch(`${base}/v1/jobs/${job}/executions`)).json()) as {
      state: string;
      output: string;
      node_name: string;
    }[];
    const done = ex.filter((e) => e.state !== "running");
    return done.length >= n ? done : undefined;
  });
}

describe("/v1 through the real control node", () => {
  it("reports status, members with Dkron's automatic tags, leader", async () => {
    const status = (await (await fetch(`${base}/v1/`)).json()) as {
      agent: { name: string };
      tags: Record<string, string>;
      raft: { state: string };
    };
    expect(status.agent.name).toBe("api-node");
    expect(status.raft.state).toBe("leader");
    expect(status.tags).toMatchObject({
      role: "dkron",
      server: "true",
      dc: "dc1",
      region: "global",
      zone: "z1",
      bootstrap: "1",
    });
    const members = await fetch(`${base}/v1/members`);
    expect(members.headers.get("x-total-count")).toBe("1");
    expect(((await members.json()) as { Name: string; statusText: string }[])[0]).toMatchObject({
      Name: "api-node",
      statusText: "alive",
    });
    expect((await fetch(`${base}/v1/isleader`)).status).toBe(200);
    expect(((await (await fetch(`${base}/v1/leader`)).json()) as { Name: string }).Name).toBe("api-node");
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect((await fetch(`${base}/v1/`)).headers.get("x-whom")).toBe("api-node");
    const missing = await fetch(`${base}/v1/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });

  it("targets the server by tag and runs a job on demand with its identity", async () => {
    const created = await json(
      "POST",
      "/v1/jobs",
      shell("ident", {
        tags: { server: "true:1" },
        executor_config: {
          command: "echo $DKRON_JOB_NAME $DKRON_EXECUTION_ID $DKRON_SCHEDULED_AT",
          shell: "true",
        },
      }),
    );
    expect(created.status).toBe(201);
    expect((await json("POST", "/v1/jobs/ident/run")).status).toBe(200);
    const [e] = await finished("ident");
    expect(e!.node_name).toBe("api-node");
    const [name, id, at] = e!.output.trim().split(" ");
    expect(name).toBe("ident");
    expect(id).toMatch(/-api-node$/);
    expect(Number.isNaN(Date.parse(at!))).toBe(false);
  });

  it("records a run with no matching target as failed instead of dropping it", async () => {
    await json("POST", "/v1/jobs", shell("nowhere", { tags: { zone: "mars" } }));
    await json("POST", "/v1/jobs/nowhere/run");
    const [e] = await finished("nowhere");
    expect(e!.state).toBe("failed");
    expect(e!.output).toMatch(/no target nodes found/);
  });

  it("runs a child after its parent succeeds, and refuses to delete the parent", async () => {
    expect((await json("POST", "/v1/jobs", shell("parent"))).status).toBe(201);
    expect(
      (await json("POST", "/v1/jobs", shell("child", { parent_job: "parent", schedule: "" }))).status,
    ).toBe(201);
    const parent = (await (await fetch(`${base}/v1/jobs/parent`)).json()) as { dependent_jobs: string[] };
    expect(parent.dependent_jobs).toEqual(["child"]);
    await json("POST", "/v1/jobs/parent/run");
    const [c] = await finished("child");
    expect(c!.output).toBe("child\n");
    const del = await json("DELETE", "/v1/jobs/parent");
    expect(del.status).toBe(409);
    expect((await fetch(`${base}/v1/jobs/parent`)).status).toBe(200);
    expect((await json("POST", "/v1/jobs", shell("orphan", { parent_job: "ghost" }))).status).toBe(404);
  });

  it("filters, sorts and pages the job list with X-Total-Count", async () => {
    for (const n of ["list-a", "list-b", "list-c"])
      await json("POST", "/v1/jobs", shell(n, { metadata: { team: n === "list-b" ? "x" : "y" } }));
    const r = await fetch(`${base}/v1/jobs?q=list-&_sort=id&_order=DESC&_start=0&_end=2`);
    expect(r.headers.get("x-total-count")).toBe("3");
    expect(((await r.json()) as { name: string }[]).map((j) => j.name)).toEqual(["list-c", "list-b"]);
    const m = (await (await fetch(`${base}/v1/jobs?metadata[team]=x`)).json()) as { name: string }[];
    expect(m.map((j) => j.name)).toEqual(["list-b"]);
    expect((await fetch(`${base}/v1/jobs?_sort=color`)).status).toBe(400);
    const untriggered = (await (
      await fetch(`${base}/v1/jobs?status=untriggered&q=list-`)
    ).json()) as unknown[];
    expect(untriggered).toHaveLength(3);
  });

  it("toggles, clears executions, deletes", async () => {
    await json("POST", "/v1/jobs", shell("tog"));
    const t = (await (await json("POST", "/v1/jobs/tog/toggle")).json()) as { disabled: boolean };
    expect(t.disabled).toBe(true);
    await json("POST", "/v1/jobs/tog/run");
    await finished("tog");
    const cleared = (await (await json("DELETE", "/v1/jobs/tog/executions")).json()) as {
      success_count: number;
    };
    expect(cleared.success_count).toBe(0);
    expect((await (await fetch(`${base}/v1/jobs/tog/executions`)).json()) as unknown[]).toEqual([]);
    expect((await json("DELETE", "/v1/jobs/tog")).status).toBe(200);
    expect((await fetch(`${base}/v1/jobs/tog`)).status).toBe(404);
    expect((await json("PUT", "/v1/jobs/other", shell("tog"))).status).toBe(400);
  });

  it("reads job bodies of any size from the socket and names a broken one", async () => {
    const bad = await fetch(`${base}/v1/jobs`, { method: "POST", body: '{"name": "half' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field?: string } }).error.field).toBe("body");
    expect((await fetch(`${base}/v1/jobs/half`)).status).toBe(404);
    // Large enough to arrive in several chunks.
    const metadata = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, "x".repeat(4096)]));
    const r = await json("POST", "/v1/jobs", shell("big-body", { metadata }));
    expect(r.status).toBe(201);
    const got = (await (await fetch(`${base}/v1/jobs/big-body`)).json()) as {
      metadata: Record<string, string>;
    };
    expect(got.metadata).toEqual(metadata);
  });

  it("pause refuses new jobs with 503 and changes nothing", async () => {
    expect(((await (await json("POST", "/v1/pause")).json()) as { paused: boolean }).paused).toBe(true);
    const r = await json("POST", "/v1/jobs", shell("while-paused"));
    expect(r.status).toBe(503);
    expect((await fetch(`${base}/v1/jobs/while-paused`)).status).toBe(404);
    await json("POST", "/v1/unpause");
    expect((await json("POST", "/v1/jobs", shell("while-paused"))).status).toBe(201);
  });

  it("restores jobs from a multipart file, parents first", async () => {
    const form = new FormData();
    const jobs = [shell("r-child", { parent_job: "r-parent", schedule: "" }), shell("r-parent")];
    form.append("file", new Blob([JSON.stringify(jobs)], { type: "application/json" }), "jobs.json");
    const r = await fetch(`${base}/v1/restore`, { method: "POST", body: form });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual(["success create r-parent", "success create r-child"]);
    expect((await fetch(`${base}/v1/jobs/r-child`)).status).toBe(200);
  });

  it("keeps a job's dst policy in canonical form, refuses a bad one by name, and restores it", async () => {
    const ok = await json(
      "POST",
      "/v1/jobs",
      shell("dst-job", { schedule: "0 */15 1-3 * * *", dst: "skip, twice" }),
    );
    expect(ok.status).toBe(201);
    const got = (await (await fetch(`${base}/v1/jobs/dst-job`)).json()) as { dst: string };
    expect(got.dst).toBe("twice,skip");
    expect(((await (await fetch(`${base}/v1/jobs/r-parent`)).json()) as { dst: string }).dst).toBe("auto");
    const bad = await json("POST", "/v1/jobs", shell("dst-bad", { dst: "sometimes" }));
    expect(bad.status).toBe(400);
    const err = (await bad.json()) as { error: { field: string; message: string } };
    expect(err.error.field).toBe("dst");
    expect(err.error.message).toContain('unknown value "sometimes"');
    expect((await fetch(`${base}/v1/jobs/dst-bad`)).status).toBe(404);
    // A backup (GET /v1/jobs) restores with the policy it had.
    await json("DELETE", "/v1/jobs/dst-job");
    const form = new FormData();
    form.append("file", new Blob([JSON.stringify([got])], { type: "application/json" }), "jobs.json");
    expect((await fetch(`${base}/v1/restore`, { method: "POST", body: form })).status).toBe(200);
    expect(((await (await fetch(`${base}/v1/jobs/dst-job`)).json()) as { dst: string }).dst).toBe(
      "twice,skip",
    );
  });

  it("refuses a body over the 1 MiB limit with 413 naming it, sized or chunked, and changes nothing", async () => {
    const before = ((await (await fetch(`${base}/v1/jobs`)).json()) as unknown[]).length;
    const big = JSON.stringify(shell("too-big", { metadata: { pad: "x".repeat(2 * 1024 * 1024) } }));
    const sized = await fetch(`${base}/v1/jobs`, { method: "POST", body: big });
    expect(sized.status).toBe(413);
    const err = (await sized.json()) as { error: { code: string; message: string; limit: number } };
    expect(err.error.code).toBe("TOO_LARGE");
    expect(err.error.message).toContain("limit of 1048576 bytes (--max-body-size)");
    // No Content-Length: the reader counts and stops.
    const chunked = await fetch(`${base}/v1/jobs`, {
      method: "POST",
      body: new Blob([big]).stream(),
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    const form = new FormData();
    form.append("file", new Blob([`[${big}]`], { type: "application/json" }), "jobs.json");
    expect((await fetch(`${base}/v1/restore`, { method: "POST", body: form })).status).toBe(413);
    expect(((await (await fetch(`${base}/v1/jobs`)).json()) as unknown[]).length).toBe(before);
    expect((await fetch(`${base}/v1/jobs/too-big`)).status).toBe(404);
  });

  it("truncates execution output to output_size_limit, keeping the tail", async () => {
    await json(
      "POST",
      "/v1/jobs",
      shell("long", { executor_config: { command: "seq 1 1000", shell: "true" } }),
    );
    await json("POST", "/v1/jobs/long/run");
    await finished("long");
    const [e] = (await (await fetch(`${base}/v1/jobs/long/executions?output_size_limit=9`)).json()) as {
      id: string;
      output: string;
      output_truncated: boolean;
    }[];
    expect(e!.output).toBe("999\n1000\n");
    expect(e!.output_truncated).toBe(true);
    const full = (await (await fetch(`${base}/v1/jobs/long/executions/${e!.id}`)).json()) as {
      output: string;
    };
    expect(full.output.startsWith("1\n2\n")).toBe(true);
  });
});

describe("the node's lifecycle", () => {
  it("a node whose port is taken fails to start, closes what it opened, and is stopped", async () => {
    const other = tempDir();
    try {
      const config = AgentConfigSchema.parse({
        server: true,
        bootstrap_expect: 1,
        node_name: "second",
        data_dir: join(other.path, "data"),
        http_addr: node.address,
      });
      const second = createControlNode(config, world());
      expect(second.phase).toBe("created");
      await expect(second.start()).rejects.toMatchObject({ code: "EADDRINUSE" });
      expect(second.phase).toBe("stopped");
      await second.whenStopped();
      await second.stop();
      // The first node still serves.
      expect((await fetch(`${base}/health`)).status).toBe(200);
    } finally {
      other.cleanup();
    }
  });
});
