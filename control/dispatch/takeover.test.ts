import { describe, expect, it } from "vitest";
import type { Execution } from "../../shared/execution";
import { T0 } from "../../test/helpers/builders";
import { retryBackoffMs } from "./backoff";
import { mayResend, owedRunWait, RESUME_WAIT_MS, retryDueAt, runnerMemory } from "./takeover";

const running = (over: Partial<Execution> = {}): Execution => ({
  id: "1-1-r1",
  job_name: "job",
  group: 1,
  attempt: 1,
  node_name: "r1",
  trigger: "schedule",
  scheduled_at: T0,
  started_at: T0,
  dispatched_at: T0,
  start_reported: false,
  finished_at: null,
  state: "running",
  success: false,
  output: "",
  exit_code: null,
  ...over,
});

const hello = (
  over: { running?: string[]; seen?: string[]; pending?: string[]; uptime_ms?: number } = {},
) => ({
  type: "hello" as const,
  version: 1,
  name: "r1",
  tags: {},
  running: over.running ?? [],
  seen: over.seen ?? [],
  pending_results: (over.pending ?? []).map((id) => ({
    type: "result" as const,
    execution_id: id,
    success: true,
    output: "",
    exit_code: 0,
    started_at: T0,
    finished_at: T0,
  })),
  uptime_ms: over.uptime_ms ?? 0,
});

describe("take-over: resending an inherited start", () => {
  const now = T0 + 10_000;
  it.each([
    ["up long before the start, never heard of it", hello({ uptime_ms: 60_000 }), true, true],
    ["it holds it", hello({ uptime_ms: 60_000, running: ["1-1-r1"] }), true, false],
    ["it ran it already", hello({ uptime_ms: 60_000, seen: ["1-1-r1"] }), true, false],
    ["its result is pending", hello({ uptime_ms: 60_000, pending: ["1-1-r1"] }), true, false],
    ["it restarted after the start", hello({ uptime_ms: 5_000 }), true, false],
    ["up only just before the start (clock skew)", hello({ uptime_ms: 10_500 }), true, false],
    ["not connected", hello({ uptime_ms: 60_000 }), false, false],
  ])("%s → %s", (_what, h, connected, resend) => {
    expect(mayResend(running(), runnerMemory(h, now), connected)).toBe(resend);
  });

  it("judges by the leader's dispatch time, not by a start time a runner's clock reported", () => {
    const e = running({ dispatched_at: T0, started_at: now });
    expect(mayResend(e, runnerMemory(hello({ uptime_ms: 5_000 }), now), true)).toBe(false);
  });

  it("never resends to a runner that has not said hello", () => {
    expect(mayResend(running(), undefined, true)).toBe(false);
  });
});

describe("take-over: owed work", () => {
  it("waits for a runner after a take-over, at most RESUME_WAIT_MS, in steps of 0.5 s", () => {
    expect(owedRunWait(0, false)).toBe(500);
    expect(owedRunWait(4800, false)).toBe(200);
    expect(owedRunWait(RESUME_WAIT_MS, false)).toBe(0);
    expect(owedRunWait(0, true)).toBe(0);
  });

  it("a retry is due its back-off after the failed attempt finished", () => {
    const f = running({ state: "failed", started_at: T0, finished_at: T0 + 3000, attempt: 2 });
    expect(retryDueAt(f)).toBe(T0 + 3000 + retryBackoffMs(3000, 2));
  });
});
