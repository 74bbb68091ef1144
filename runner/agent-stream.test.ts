import { describe, expect, it } from "vitest";
import { createLogger, type Logger } from "../shared/logger";
import { fakeAgent, runFrame, settle } from "../test/helpers/runner-agent-fakes";

// The stream's promises on virtual time: back-off between failed connects, a silent (half-open)
// leader left after three heartbeats, results kept and re-sent until acknowledged across
// reconnects, and live output skipped (and counted) while the socket is backed up.

function agent(opts: { maxBacklogBytes?: number; logger?: Logger } = {}) {
  // random 0.5, the middle of the jitter: each delay is the back-off base itself.
  const { agent: a, clock, executor, dials } = fakeAgent(opts);
  return { a, clock, dials, executor, last: () => dials.at(-1)!.socket };
}

describe("RunnerAgent stream", () => {
  it("backs off between failed connects, doubling up to the cap, and starts over after a welcome", async () => {
    const { a, clock, dials, last } = agent();
    void a.start();
    const closedAt: number[] = [];
    for (let i = 0; i < 9; i++) {
      closedAt.push(clock.now());
      last().close(); // refused: no open, no welcome
      clock.advance(10_000);
    }
    const gaps = dials.slice(1).map(({ socket }, i) => socket.openedAt - closedAt[i]!);
    // 100 ms first, then doubling, never above 5 s (what a dead leader costs a fleet's connects).
    expect(gaps.slice(0, 7)).toEqual([100, 200, 400, 800, 1600, 3200, 5000]);
    expect(gaps.every((g) => g <= 5000)).toBe(true);
    // Once a leader welcomes it, a later drop reconnects quickly again.
    last().welcome();
    await settle();
    const before = dials.length;
    last().close();
    clock.advance(99);
    expect(dials.length).toBe(before);
    clock.advance(1);
    expect(dials.length).toBe(before + 1);
    await a.stop(0);
  });

  it("leaves a leader that has said nothing for three heartbeats (a half-open connection) and reconnects", async () => {
    const { a, clock, dials, last } = agent();
    const ready = a.start();
    last().welcome(1000);
    await ready;
    const first = last();
    // The leader answers pings: the connection stays.
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      first.deliver({ type: "pong", ts: clock.now() });
    }
    expect(first.terminated).toBe(false);
    expect(first.sent.filter((m) => m.type === "ping").length).toBeGreaterThanOrEqual(4);
    // Silence (the socket stays "open", as a frozen or partitioned leader's does).
    clock.advance(4000);
    expect(first.terminated).toBe(true);
    expect(a.status().connected).toBe(false);
    clock.advance(200);
    expect(dials.length).toBe(2);
    await a.stop(0);
  });

  it("keeps a result made while the stream was down and sends it in the next hello, then again until acknowledged", async () => {
    const { a, clock, executor, last } = agent();
    const ready = a.start();
    last().welcome(1000);
    await ready;
    last().deliver(runFrame("e1"));
    await settle();
    expect(executor.runs).toHaveLength(1);
    // The leader goes away mid-run; the run finishes meanwhile.
    last().close();
    executor.runs[0]!.end({ success: true, output: "done\n", exitCode: 0 });
    await settle();
    expect(a.status().pendingResults).toBe(1);
    clock.advance(100);
    const next = last();
    next.open();
    const hello = next.sent.find((m) => m.type === "hello");
    expect(hello?.type === "hello" && hello.pending_results.map((r) => r.execution_id)).toEqual(["e1"]);
    next.deliver({ type: "welcome", node: "c2", unknown: [], heartbeat_ms: 1000 });
    // Not acknowledged yet: re-sent with the next heartbeat.
    clock.advance(1000);
    expect(
      next.sent.filter((m) => m.type === "result" && m.execution_id === "e1").length,
    ).toBeGreaterThanOrEqual(1);
    next.deliver({ type: "result_ack", execution_id: "e1" });
    expect(a.status().pendingResults).toBe(0);
    const sentBefore = next.sent.length;
    clock.advance(1000);
    next.deliver({ type: "pong", ts: clock.now() });
    expect(next.sent.slice(sentBefore).some((m) => m.type === "result")).toBe(false);
    // The same run sent again (a new leader re-dispatching) is acknowledged, never started twice.
    next.deliver(runFrame("e1"));
    await settle();
    expect(executor.runs).toHaveLength(1);
    await a.stop(0);
  });

  it("skips live output while the socket is backed up, counts it, and still delivers the output in the result", async () => {
    const { a, clock, executor, last } = agent({ maxBacklogBytes: 1000 });
    const ready = a.start();
    last().welcome(60_000);
    await ready;
    const s = last();
    s.deliver(runFrame("e2"));
    await settle();
    const req = executor.runs[0]!.req;
    req.onOutput("a".repeat(300));
    clock.advance(50);
    expect(s.sent.filter((m) => m.type === "output")).toHaveLength(1);
    // The leader stops reading: the socket's buffer fills beyond the backlog bound.
    s.bufferedAmount = 5000;
    req.onOutput("b".repeat(400));
    clock.advance(50);
    expect(s.sent.filter((m) => m.type === "output")).toHaveLength(1);
    s.bufferedAmount = 0;
    req.onOutput("c".repeat(100));
    clock.advance(50);
    const outputs = s.sent.filter((m) => m.type === "output");
    expect(outputs).toHaveLength(2);
    expect(outputs.map((m) => (m.type === "output" ? m.seq : -1))).toEqual([0, 1]);
    executor.runs[0]!.end({
      success: true,
      output: `${"a".repeat(300)}${"b".repeat(400)}${"c".repeat(100)}`,
      exitCode: 0,
    });
    await settle();
    expect(a.status().droppedLiveBytes).toBe(400);
    const result = s.sent.find((m) => m.type === "result");
    expect(result?.type === "result" && result.output.length).toBe(800);
    s.deliver({ type: "result_ack", execution_id: "e2" });
    await a.stop(0);
  });

  it("logs each run's start and finish with the job and execution keys (STYLE.md's fixed keys)", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      level: "info",
      write: (l) => lines.push(JSON.parse(l)),
      fields: { runner: "r1" },
    });
    const { a, executor, last } = agent({ logger });
    const ready = a.start();
    last().welcome(60_000);
    await ready;
    last().deliver(runFrame("e3"));
    await settle();
    executor.runs[0]!.end({ success: false, output: "", exitCode: 2 });
    await settle();
    last().deliver({ type: "result_ack", execution_id: "e3" });
    const runLines = lines.filter((l) => typeof l.msg === "string" && /^run /.test(l.msg as string));
    expect(runLines.map((l) => [l.msg, l.job, l.execution, l.runner])).toEqual([
      ["run started", "job", "e3", "r1"],
      ["run finished", "job", "e3", "r1"],
    ]);
    expect(runLines[1]).toMatchObject({ success: false, exitCode: 2 });
    expect(lines.some((l) => l.msg === "connected to the leader" && l.leader === "c1")).toBe(true);
    await a.stop(0);
  });
});
