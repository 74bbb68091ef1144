/**
 * The hub's answers to a runner's upgrade and its draining frame, over real sockets on loopback
 * (a node:http server handing upgrades to the hub, the ws client the runner uses).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type WebSocket as ServerSocket, WebSocket } from "ws";
import { decodeControlFrame, encodeFrame, systemClock, WIRE_VERSION } from "../../shared";
import { silentLogger } from "../../shared/logger";
import { RUNNER_WS_PATH, RunnerHub } from "./runner-hub";
import { RunnerSessions } from "./runner-sessions";

const CREDENTIAL = "drc.r1id.secret";

/** Events the dispatcher would get; the hub's answers here do not depend on them. */
const events = {
  onHello: () => [],
  onHeld: () => {},
  onAck: () => {},
  onOutput: () => {},
  onResult: () => {},
  onDisconnect: () => {},
};

const servers: Server[] = [];
const hubs: RunnerHub[] = [];
afterEach(async () => {
  for (const h of hubs.splice(0)) h.stop();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A hub behind a real HTTP server on a free loopback port. */
async function hubOn(opts: {
  redirect: () => string | null | undefined;
  authenticate: (presented: string) => { name: string; tags: Record<string, string> } | undefined;
  settled?: () => Promise<void>;
}) {
  const sessions = new RunnerSessions<ServerSocket>();
  const hub = new RunnerHub({
    sessions,
    events,
    clock: systemClock,
    logger: silentLogger,
    token: "shared-token",
    heartbeatMs: 60_000,
    nodeName: "n1",
    controlUrls: () => ["http://127.0.0.1:1", "http://127.0.0.1:2", "not a url"],
    ...opts,
  });
  hubs.push(hub);
  const server = createServer((_req, res) => res.end());
  server.on("upgrade", (req, socket, head) => {
    if (!hub.handleUpgrade(req, socket, head)) socket.destroy();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}${RUNNER_WS_PATH}`;
  return { hub, sessions, url };
}

/** What the node answered an upgrade with the credential: an HTTP status and headers, or an open socket. */
function dial(
  url: string,
): Promise<{ status: number; headers: Record<string, unknown> } | { ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: { authorization: `Bearer ${CREDENTIAL}` },
      followRedirects: false,
    });
    ws.on("unexpected-response", (_req, res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      res.resume();
      ws.terminate();
    });
    ws.on("open", () => resolve({ ws }));
    ws.on("error", (e) => reject(e));
  });
}

/** Sends the hello and resolves with the welcome. */
function hello(ws: WebSocket): Promise<Extract<ReturnType<typeof decodeControlFrame>, { ok: true }>["msg"]> {
  return new Promise((resolve) => {
    ws.once("message", (d) => {
      const f = decodeControlFrame(String(d));
      if (f.ok) resolve(f.msg);
    });
    ws.send(
      encodeFrame({
        type: "hello",
        version: WIRE_VERSION,
        name: "r1",
        tags: { pool: "d" },
        running: [],
        pending_results: [],
        seen: [],
        uptime_ms: 0,
      }),
    );
  });
}

const known = () => ({ name: "r1", tags: {} });

describe("RunnerHub: who answers a runner's upgrade", () => {
  it("a follower never judges a credential: 503 without a leader, a redirect with one", async () => {
    let leader: string | null = null;
    const { url } = await hubOn({ redirect: () => leader, authenticate: () => undefined });
    expect(await dial(url)).toMatchObject({ status: 503 });
    leader = "127.0.0.1:9";
    expect(await dial(url)).toMatchObject({
      status: 307,
      headers: { location: `ws://127.0.0.1:9${RUNNER_WS_PATH}` },
    });
  });

  it("the leader refuses an unknown credential for good only after applying what was committed", async () => {
    let applied = false;
    const { url } = await hubOn({
      redirect: () => undefined,
      authenticate: () => (applied ? known() : undefined),
      // The join was committed before this node led; it applies it now.
      settled: async () => {
        applied = true;
      },
    });
    const r = await dial(url);
    expect("ws" in r).toBe(true);
    if ("ws" in r) r.ws.close();

    const { url: other } = await hubOn({
      redirect: () => undefined,
      authenticate: () => undefined,
      settled: async () => {},
    });
    expect(await dial(other)).toMatchObject({ status: 401, headers: { "dkron-runner-rejected": "revoked" } });
  });

  it("unknown credentials arriving together share one read barrier", async () => {
    let barriers = 0;
    let release = () => {};
    let arrived = 0;
    let allArrived = () => {};
    const five = new Promise<void>((r) => {
      allArrived = r;
    });
    const { url } = await hubOn({
      redirect: () => undefined,
      // Called once as each credential arrives (before it waits).
      authenticate: () => {
        if (++arrived === 5) allArrived();
        return undefined;
      },
      settled: () => {
        barriers++;
        return new Promise<void>((r) => {
          release = r;
        });
      },
    });
    const dials = Array.from({ length: 5 }, () => dial(url));
    await five;
    release();
    for (const r of await Promise.all(dials)) expect(r).toMatchObject({ status: 401 });
    expect(barriers).toBe(1);
  });
});

describe("RunnerHub: welcome and drain", () => {
  it("names the control nodes in the welcome and stops offering a runner that says it drains", async () => {
    const { sessions, url } = await hubOn({ redirect: () => undefined, authenticate: known });
    const r = await dial(url);
    if (!("ws" in r)) throw new Error(`no upgrade: ${r.status}`);
    const welcome = await hello(r.ws);
    expect(welcome).toMatchObject({
      type: "welcome",
      controls: ["http://127.0.0.1:1", "http://127.0.0.1:2"],
    });
    expect(sessions.candidates().map((c) => c.name)).toEqual(["r1"]);
    // A ping after the draining frame: its pong means the hub has read both.
    const pong = new Promise((res) => r.ws.once("message", res));
    r.ws.send(encodeFrame({ type: "draining" }));
    r.ws.send(encodeFrame({ type: "ping", ts: 1 }));
    await pong;
    expect(sessions.candidates()).toEqual([]);
    expect(sessions.isConnected("r1")).toBe(true);
    r.ws.close();
  });
});
