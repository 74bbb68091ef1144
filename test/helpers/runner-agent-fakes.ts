/**
 * Stand-ins for the two things a RunnerAgent unit test cannot run for real in virtual time: the ws
 * client socket (the agent's stream to a control node) and an executor whose runs the test ends.
 * Kept under test/ so no runner source can import them and the runner bundle never sees them.
 */
import { EventEmitter } from "node:events";
import type WebSocket from "ws";
import { RunnerAgent, type RunnerAgentOptions } from "../../runner/agent";
import type { ExecuteRequest, ExecuteResult, Executor } from "../../runner/executors";
import { type ControlMessage, decodeRunnerFrame, encodeFrame, type RunnerMessage } from "../../shared";
import { silentLogger } from "../../shared/logger";
import { T0 } from "./builders";
import { FakeClock } from "./fake-clock";

/** Stands in for the ws client socket: it records what the agent sends; the test opens, feeds and closes it. */
export class FakeSocket extends EventEmitter {
  readyState = 0;
  bufferedAmount = 0;
  terminated = false;
  readonly sent: RunnerMessage[] = [];

  /** `openedAt`: the virtual time the agent dialled it (for back-off checks). */
  constructor(readonly openedAt = 0) {
    super();
  }

  /** Decodes and records a frame the agent sends. */
  send(data: string): void {
    const d = decodeRunnerFrame(data);
    if (!d.ok) throw new Error(d.error);
    this.sent.push(d.msg);
  }

  /** The connection is up. */
  open(): void {
    this.readyState = 1;
    this.emit("open");
  }

  /** The connection is gone (as ws does, only the first close is reported). */
  close(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.emit("close", 1006);
  }

  /** What the agent calls on a half-open connection: recorded, then closed. */
  terminate(): void {
    this.terminated = true;
    this.close();
  }

  /** A frame from the control node. */
  deliver(msg: ControlMessage): void {
    this.emit("message", encodeFrame(msg));
  }

  /** Opens the socket and sends the control node's welcome. */
  welcome(heartbeatMs = 1000): void {
    this.open();
    this.deliver({ type: "welcome", node: "c1", unknown: [], heartbeat_ms: heartbeatMs });
  }
}

/** An executor the test drives: each run waits until the test ends it. */
export class ManualExecutor implements Executor {
  readonly name = "shell";
  readonly runs: { req: ExecuteRequest; end: (r: ExecuteResult) => void }[] = [];

  /** Records the run; it resolves when the test calls its `end`. */
  execute(req: ExecuteRequest): Promise<ExecuteResult> {
    return new Promise((end) => this.runs.push({ req, end }));
  }
}

/** A `run` frame of execution `id` of a shell job named `job` running `true`. */
export const runFrame = (id: string): ControlMessage => ({
  type: "run",
  execution_id: id,
  job_name: "job",
  scheduled_at: new Date(T0).toISOString(),
  attempt: 1,
  executor: "shell",
  config: { command: "true" },
});

/** Lets pending promise callbacks and I/O callbacks run (one turn of the event loop). */
export const settle = () => new Promise((r) => setImmediate(r));

/**
 * A RunnerAgent on a FakeClock at T0 with `executor` as its shell executor, dialling FakeSockets it
 * records (with the URL dialled); `opts` override the defaults (jitter in the middle: random 0.5).
 */
export function fakeAgent(opts: Partial<RunnerAgentOptions> = {}, executor = new ManualExecutor()) {
  const clock = new FakeClock(T0);
  const dials: { url: string; socket: FakeSocket }[] = [];
  const agent = new RunnerAgent({
    url: "ws://control/_runner/ws",
    token: "t",
    name: "r1",
    tags: {},
    executors: new Map([["shell", executor]]),
    clock,
    logger: silentLogger,
    webSocket: (url) => {
      const socket = new FakeSocket(clock.now());
      dials.push({ url, socket });
      return socket as unknown as WebSocket;
    },
    random: () => 0.5,
    ...opts,
  });
  return { agent, clock, executor, dials, last: () => dials.at(-1)! };
}
