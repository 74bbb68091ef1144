import { describe, expect, it } from "vitest";
import { decodeControlFrame, decodeRunnerFrame, encodeFrame, type RunnerMessage } from "./wire";

describe("wire codec", () => {
  it("round-trips every runner frame", () => {
    const frames: RunnerMessage[] = [
      {
        type: "hello",
        version: 1,
        name: "r1",
        tags: { a: "b" },
        running: ["e1"],
        pending_results: [],
        seen: ["e0"],
        uptime_ms: 5,
      },
      { type: "ack", execution_id: "e1" },
      { type: "output", execution_id: "e1", seq: 3, data: "héllo\n" },
      {
        type: "result",
        execution_id: "e1",
        success: false,
        output: "x",
        error: "exit status 2",
        exit_code: 2,
        started_at: 1,
        finished_at: 2,
      },
      { type: "ping", ts: 5, running: ["e1"] },
      { type: "draining" },
    ];
    for (const f of frames) expect(decodeRunnerFrame(encodeFrame(f))).toEqual({ ok: true, msg: f });
  });

  it("round-trips control frames", () => {
    const run = {
      type: "run" as const,
      execution_id: "e",
      job_name: "j",
      scheduled_at: "2026-01-01T00:00:00.000Z",
      attempt: 1,
      executor: "shell",
      config: { command: "true" },
    };
    expect(decodeControlFrame(encodeFrame(run))).toEqual({ ok: true, msg: run });
    const welcome = {
      type: "welcome" as const,
      node: "n1",
      unknown: [],
      heartbeat_ms: 500,
      controls: ["http://10.0.0.1:8080", "https://n2.example:8443"],
    };
    expect(decodeControlFrame(encodeFrame(welcome))).toEqual({ ok: true, msg: welcome });
    expect(decodeControlFrame(encodeFrame({ ...welcome, controls: ["not a url"] })).ok).toBe(false);
    expect(decodeControlFrame(encodeFrame({ type: "result_ack", execution_id: "e" }))).toEqual({
      ok: true,
      msg: { type: "result_ack", execution_id: "e" },
    });
  });

  it("rejects malformed frames with a reason instead of throwing", () => {
    expect(decodeRunnerFrame("{")).toEqual({ ok: false, error: "frame is not JSON" });
    const r = decodeRunnerFrame(JSON.stringify({ type: "output", execution_id: "e", seq: -1, data: "x" }));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/seq/);
    expect(decodeRunnerFrame(JSON.stringify({ type: "run" })).ok).toBe(false);
    expect(decodeControlFrame(JSON.stringify({ type: "hello" })).ok).toBe(false);
  });
});
