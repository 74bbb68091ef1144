/**
 * Control-node tags (`server`, `dkron_server`, `role`, ...) are reserved: a remote runner cannot ask
 * for them at join, a join token cannot force them, and a runner that says them in its hello anyway
 * (a hand-edited credential file) does not get them — a job meant for control nodes never lands on it.
 * A real node in-process; the remote runner is a raw WebSocket speaking the wire protocol.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { AgentConfigSchema } from "../../control/config";
import { createControlNode } from "../../control/main";
import type { ControlNode } from "../../control/node";
import { systemClock } from "../../shared/clock";
import { silentLogger } from "../../shared/logger";
import { decodeControlFrame, encodeFrame, WIRE_VERSION } from "../../shared/wire";
import { adminTokenOf, fetchWithToken, waitFor } from "../helpers/agent-process";
import { tempDir } from "../helpers/tmp";

let node: ControlNode;
let base = "";
let token = "";
const dir = tempDir();
const fetch = fetchWithToken(() => token);
const sockets: WebSocket[] = [];

beforeAll(async () => {
  const config = AgentConfigSchema.parse({
    server: true,
    bootstrap_expect: 1,
    node_name: "ctl",
    data_dir: join(dir.path, "data"),
    http_addr: "127.0.0.1:0",
    runner_settle: 2000,
  });
  node = createControlNode(config, {
    clock: systemClock,
    logger: silentLogger,
    random: Math.random,
    secret: () => randomBytes(16).toString("hex"),
    fetch: (input, init) => globalThis.fetch(input, init),
    spawn,
    announce: () => undefined,
  });
  await node.start();
  base = `http://${node.address}`;
  token = await adminTokenOf(config.data_dir);
});

afterAll(async () => {
  for (const s of sockets) s.terminate();
  await node.stop();
  dir.cleanup();
});

const post = (path: string, body: unknown) =>
  fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

async function joinToken(body: unknown = {}): Promise<{ id: string; token: string }> {
  const r = await post("/v1/runner-tokens", body);
  expect(r.status, await r.clone().text()).toBe(201);
  return (await r.json()) as { id: string; token: string };
}

describe("reserved control-node tags (real node)", () => {
  it("a join token cannot force a reserved tag: 400 naming it", async () => {
    const r = await post("/v1/runner-tokens", { tags: { server: "true" } });
    expect(r.status).toBe(400);
    const { error } = (await r.json()) as { error: { message: string; field: string } };
    expect(error.field).toBe("tags.server");
    expect(error.message).toMatch(/tags\.server: "server" is reserved for control nodes/);
  });

  it("a join asking for one is refused with 400 naming it, and the token is not spent", async () => {
    const t = await joinToken({ single_use: true });
    for (const key of ["server", "dkron_server", "role"]) {
      const r = await post("/v1/runners/join", {
        token: t.token,
        name: "rr",
        tags: { zone: "a", [key]: "true" },
      });
      expect(r.status).toBe(400);
      const { error } = (await r.json()) as { error: { message: string; field: string } };
      expect(error.field).toBe(`tags.${key}`);
      expect(error.message).toContain(`"${key}" is reserved for control nodes`);
    }
    const tokens = (await (await fetch(`${base}/v1/runner-tokens`)).json()) as { id: string; uses: number }[];
    expect(tokens.find((x) => x.id === t.id)?.uses).toBe(0);
    // The single-use token still works for a join without them.
    expect((await post("/v1/runners/join", { token: t.token, name: "rr", tags: { zone: "a" } })).status).toBe(
      201,
    );
  });

  it("a runner that claims server=true in its hello anyway never gets a job meant for control nodes", async () => {
    const t = await joinToken();
    const joined = (await (
      await post("/v1/runners/join", { token: t.token, name: "rogue", tags: {} })
    ).json()) as {
      credential: string;
    };
    const runs: string[] = [];
    const ws = new WebSocket(`ws://${node.address}/_runner/ws`, {
      headers: { authorization: `Bearer ${joined.credential}` },
    });
    sockets.push(ws);
    const welcomed = new Promise<void>((resolve, reject) => {
      ws.on("message", (d) => {
        const f = decodeControlFrame(String(d));
        if (f.ok && f.msg.type === "welcome") resolve();
        if (f.ok && f.msg.type === "run") runs.push(f.msg.job_name);
      });
      ws.on("error", reject);
    });
    await new Promise<void>((resolve, reject) => {
      ws.on("open", resolve);
      ws.on("error", reject);
    });
    ws.send(
      encodeFrame({
        type: "hello",
        version: WIRE_VERSION,
        name: "rogue",
        tags: { server: "true", dkron_server: "true", role: "dkron", zone: "r" },
        running: [],
        pending_results: [],
        seen: [],
        uptime_ms: 0,
      }),
    );
    await welcomed;
    const listed = await waitFor("rogue connected", async () => {
      const rs = (await (await fetch(`${base}/v1/runners`)).json()) as {
        name: string;
        live_tags: Record<string, string> | null;
      }[];
      return rs.find((r) => r.name === "rogue" && r.live_tags)?.live_tags ?? undefined;
    });
    expect(listed).toEqual({ zone: "r" });
    // No count: every node whose tags match. Before reserved tags the rogue runner was one of them.
    for (const [name, tags] of [
      ["on-servers", { server: "true" }],
      ["on-dkron1-servers", { dkron_server: "true" }],
    ] as const) {
      const created = await post("/v1/jobs", {
        name,
        schedule: "@manually",
        executor: "shell",
        executor_config: { command: "true" },
        tags,
      });
      expect(created.status).toBe(201);
      expect((await post(`/v1/jobs/${name}/run`, {})).status).toBe(200);
      const done = await waitFor(`${name} finished`, async () => {
        const ex = (await (await fetch(`${base}/v1/jobs/${name}/executions`)).json()) as {
          node_name: string;
          state: string;
        }[];
        return ex.length && ex.every((e) => e.state !== "running") ? ex : undefined;
      });
      expect(done.map((e) => [e.node_name, e.state])).toEqual([["ctl", "success"]]);
    }
    expect(runs).toEqual([]);
  });
});
