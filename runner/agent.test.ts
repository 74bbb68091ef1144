import { describe, expect, it } from "vitest";
import type { ControlMessage } from "../shared";
import { T0 } from "../test/helpers/builders";
import { fakeAgent, ManualExecutor, runFrame, settle } from "../test/helpers/runner-agent-fakes";

async function connected() {
  const { agent, clock, executor, last } = fakeAgent({ random: () => 0 });
  const ready = agent.start();
  const socket = last().socket;
  socket.welcome(60_000);
  await ready;
  return { clock, socket, executor };
}

describe("RunnerAgent: when a run started", () => {
  it("acks a run when its executor says it started, with that time, and reports the same start in the result", async () => {
    const { clock, socket, executor } = await connected();
    socket.deliver(runFrame("e1"));
    expect(socket.sent.filter((m) => m.type === "ack")).toEqual([]);
    // The process takes 250 ms to spawn.
    clock.advance(250);
    executor.runs[0]!.req.onStarted?.();
    expect(socket.sent.filter((m) => m.type === "ack")).toEqual([
      { type: "ack", execution_id: "e1", started_at: T0 + 250 },
    ]);
    // A second call (a buggy executor) changes nothing.
    clock.advance(10);
    executor.runs[0]!.req.onStarted?.();
    // A re-sent run is acknowledged again with the start it already had.
    socket.deliver(runFrame("e1"));
    expect(socket.sent.filter((m) => m.type === "ack")).toEqual([
      { type: "ack", execution_id: "e1", started_at: T0 + 250 },
      { type: "ack", execution_id: "e1", started_at: T0 + 250 },
    ]);
    clock.advance(1000);
    executor.runs[0]!.end({ success: true, output: "ok" });
    await settle();
    expect(socket.sent.find((m) => m.type === "result")).toMatchObject({
      execution_id: "e1",
      started_at: T0 + 250,
      finished_at: T0 + 1260,
    });
  });

  it("a run that never started sends no ack; its result says when the runner took it on", async () => {
    const { clock, socket, executor } = await connected();
    socket.deliver(runFrame("e2"));
    clock.advance(40);
    executor.runs[0]!.end({ success: false, output: "", error: 'cannot start command: "x" not found' });
    await settle();
    expect(socket.sent.filter((m) => m.type === "ack")).toEqual([]);
    expect(socket.sent.find((m) => m.type === "result")).toMatchObject({
      execution_id: "e2",
      success: false,
      started_at: T0,
      finished_at: T0 + 40,
    });
  });
});

/** An agent over fake sockets that records every URL it dials; the test opens or fails each one. */
function dialing(
  opts: { fallbackUrls?: string[]; onRejected?: (r: string) => void } = {},
  executor = new ManualExecutor(),
) {
  const { agent, clock, dials, last } = fakeAgent(
    { url: "ws://n1/_runner/ws", token: "drc.x.y", ...opts },
    executor,
  );
  /** The last dial is answered with an HTTP status (no upgrade). */
  const answer = (statusCode: number, headers: Record<string, string> = {}) =>
    last().socket.emit("unexpected-response", {}, { statusCode, headers, resume: () => {} });
  /** The last dial is refused at the TCP level (the node is down). */
  const refuse = () => last().socket.close();
  /** The last dial opens and gets a welcome. */
  const welcome = (extra: Partial<Extract<ControlMessage, { type: "welcome" }>> = {}) => {
    last().socket.open();
    last().socket.deliver({ type: "welcome", node: "leader", unknown: [], heartbeat_ms: 60_000, ...extra });
  };
  /** Runs the pending reconnect timer (the back-off is at most the cap). */
  const next = () => clock.advance(10_000);
  return { agent, clock, dials, last, answer, refuse, welcome, next };
}

describe("RunnerAgent: finding the leader through any control node it knows", () => {
  it("rotates through the known control nodes while one is down, follows a redirect, and keeps the one that worked", async () => {
    const t = dialing({ fallbackUrls: ["ws://n2/_runner/ws", "ws://n3/_runner/ws"] });
    void t.agent.start();
    expect(t.last().url).toBe("ws://n1/_runner/ws");
    t.refuse();
    t.next();
    expect(t.last().url).toBe("ws://n2/_runner/ws");
    // n2 has no leader yet: ask the next node shortly.
    t.answer(503);
    t.clock.advance(250);
    expect(t.last().url).toBe("ws://n3/_runner/ws");
    // n3 knows the leader (n2 by now): the redirect is followed at once.
    t.answer(307, { location: "ws://n2/_runner/ws?x=1" });
    t.clock.advance(1);
    expect(t.last().url).toBe("ws://n2/_runner/ws?x=1");
    t.welcome();
    expect(t.agent.status().connected).toBe(true);
    // The stream drops (leader change): the node that answered last (n3) is asked first.
    t.last().socket.close();
    t.next();
    expect(t.last().url).toBe("ws://n3/_runner/ws");
    expect(t.dials.map((d) => d.url.replace(/^ws:\/\/(n\d).*/, "$1"))).toEqual([
      "n1",
      "n2",
      "n3",
      "n2",
      "n3",
    ]);
  });

  it("learns the other control nodes from a welcome", async () => {
    const t = dialing();
    void t.agent.start();
    t.welcome();
    t.agent.setFallbackUrls(["ws://n2/_runner/ws", "ws://n1/_runner/ws"]);
    expect(t.agent.controlUrls()).toEqual(["ws://n1/_runner/ws", "ws://n2/_runner/ws"]);
    t.last().socket.close();
    t.next();
    expect(t.last().url).toBe("ws://n1/_runner/ws");
    t.refuse();
    t.next();
    expect(t.last().url).toBe("ws://n2/_runner/ws");
  });

  it("stops only when the leader says the credential is revoked; a bare 401 is retried elsewhere", async () => {
    const rejected: string[] = [];
    const t = dialing({ fallbackUrls: ["ws://n2/_runner/ws"], onRejected: (r) => rejected.push(r) });
    void t.agent.start();
    // An older follower that has not applied the join yet.
    t.answer(401);
    t.next();
    expect(rejected).toEqual([]);
    expect(t.last().url).toBe("ws://n2/_runner/ws");
    t.answer(401, { "dkron-runner-rejected": "revoked" });
    expect(rejected).toHaveLength(1);
  });
});

describe("RunnerAgent: draining", () => {
  it("tells the leader when the drain starts, and again after a reconnect, while its run finishes", async () => {
    const executor = new ManualExecutor();
    const t = dialing({}, executor);
    const agent = t.agent;
    void agent.start();
    t.welcome();
    t.last().socket.deliver(runFrame("e1"));
    const stopped = agent.stop(60_000);
    const first = t.last().socket;
    expect(first.sent.at(-1)).toEqual({ type: "draining" });
    // The stream drops mid-drain: the hello on the new one is followed by the drain again.
    first.close();
    t.clock.advance(1000);
    t.welcome();
    expect(t.last().socket.sent.map((m) => m.type)).toEqual(["hello", "draining"]);
    executor.runs[0]!.end({ success: true, output: "done" });
    await settle();
    expect(t.last().socket.sent.find((m) => m.type === "result")).toMatchObject({
      execution_id: "e1",
      success: true,
    });
    t.last().socket.deliver({ type: "result_ack", execution_id: "e1" });
    await settle();
    t.clock.advance(100);
    await stopped;
    expect(agent.status().state).toBe("stopped");
  });
});
