import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { type ControlMessage, decodeRunnerFrame, encodeFrame, type RunnerMessage } from "../shared";
import { silentLogger } from "../shared/logger";
import { T0 } from "../test/helpers/builders";
import { FakeClock } from "../test/helpers/fake-clock";
import { RunnerAgent } from "./agent";
import type { ExecuteRequest, ExecuteResult, Executor } from "./executors";

/** Stands in for the ws client socket: open at once, records what the agent sends. */
class FakeSocket extends EventEmitter {
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: RunnerMessage[] = [];

  send(data: string): void {
    const d = decodeRunnerFrame(data);
    if (!d.ok) throw new Error(d.error);
    this.sent.push(d.msg);
  }

  close(): void {
    this.readyState = 3;
    this.emit("close");
  }

  terminate(): void {
    this.close();
  }

  /** A frame from the control node. */
  deliver(msg: ControlMessage): void {
    this.emit("message", encodeFrame(msg));
  }
}

/** An executor the test drives: each run waits until the test starts and ends it. */
class ManualExecutor implements Executor {
  readonly name = "shell";
  readonly runs: { req: ExecuteRequest; end: (r: ExecuteResult) => void }[] = [];

  execute(req: ExecuteRequest): Promise<ExecuteResult> {
    return new Promise((end) => this.runs.push({ req, end }));
  }
}

async function connected() {
  const clock = new FakeClock(T0);
  const socket = new FakeSocket();
  const executor = new ManualExecutor();
  const agent = new RunnerAgent({
    url: "ws://control/_runner/ws",
    token: "t",
    name: "r1",
    tags: {},
    executors: new Map([["shell", executor]]),
    clock,
    logger: silentLogger,
    webSocket: () => socket as unknown as WebSocket,
    random: () => 0,
  });
  const ready = agent.start();
  socket.emit("open");
  socket.deliver({ type: "welcome", node: "c1", unknown: [], heartbeat_ms: 60_000 });
  await ready;
  return { clock, socket, executor };
}

const run = (id: string): ControlMessage => ({
  type: "run",
  execution_id: id,
  job_name: "job",
  scheduled_at: new Date(T0).toISOString(),
  attempt: 1,
  executor: "shell",
  config: { command: "true" },
});

const settle = () => new Promise((r) => setImmediate(r));

describe("RunnerAgent: when a run started", () => {
  it("acks a run when its executor says it started, with that time, and reports the same start in the result", async () => {
    const { clock, socket, executor } = await connected();
    socket.deliver(run("e1"));
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
    socket.deliver(run("e1"));
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
    socket.deliver(run("e2"));
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
