import type { Execution, Hello } from "../../shared";
import { retriesOwed } from "../fsm";
import type { StateDb } from "../store";
import { failedExecutions, getStoredJob, groupExecutions } from "../store";
import { retryBackoffMs } from "./backoff";

// What a new leader owes for the work of the one before it (or of this node before a restart):
// retries whose back-off timers died with it, dependent runs it did not start, and starts it
// committed that may never have reached their runner. The rules are here; the dispatcher runs them.

/** Least wait before a retry or dependent run taken over from a previous leader: runners reconnect first. */
export const RESUME_WAIT_MS = 5_000;

/** A retry the new leader owes, and how long to wait before starting it. */
export interface OwedRetry {
  failed: Execution;
  delayMs: number;
}

/**
 * Retries owed by failed attempts in the state: each waits out the rest of its back-off, and at least
 * RESUME_WAIT_MS so runners can reconnect. Without them their groups never complete, so no status,
 * dependent jobs or ephemeral delete.
 */
export function owedRetries(state: StateDb, now: number): OwedRetry[] {
  const out: OwedRetry[] = [];
  const seen = new Set<string>();
  for (const f of failedExecutions(state)) {
    const key = `${f.job_name}\u0000${f.group}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const job = getStoredJob(state, f.job_name);
    if (!job) continue;
    for (const e of retriesOwed(groupExecutions(state, f.job_name, f.group), job.spec.retries)) {
      out.push({ failed: e, delayMs: Math.max(RESUME_WAIT_MS, retryDueAt(e) - now) });
    }
  }
  return out;
}

/** When the retry of a failed attempt is due: its finish plus Dkron's back-off. */
export function retryDueAt(e: Execution): number {
  const finished = e.finished_at ?? e.started_at;
  return finished + retryBackoffMs(finished - e.started_at, e.attempt);
}

/**
 * How long an owed dependent run should wait for a runner its tags select: none once one is
 * connected or RESUME_WAIT_MS after the take-over (then it starts, and records "no target" if need
 * be); otherwise up to 0.5 s at a time.
 */
export function owedRunWait(sinceTakeoverMs: number, hasTarget: boolean): number {
  if (hasTarget || sinceTakeoverMs >= RESUME_WAIT_MS) return 0;
  return Math.min(500, RESUME_WAIT_MS - sinceTakeoverMs);
}

/** What a connected runner told this leader: since when it is up and the executions it knows. */
export interface RunnerMemory {
  upSince: number;
  known: Set<string>;
}

/** What a runner's hello says it remembers. */
export function runnerMemory(hello: Hello, now: number): RunnerMemory {
  return {
    upSince: now - hello.uptime_ms,
    known: new Set([...hello.running, ...hello.seen, ...hello.pending_results.map((r) => r.execution_id)]),
  };
}

/**
 * Whether an inherited execution provably never reached its connected runner: the runner neither
 * holds nor knows it and has been up since before it started (so a restart did not wipe its memory
 * of running it). Only then may it be sent again; otherwise its lease decides — never a second run.
 */
export function mayResend(e: Execution, memory: RunnerMemory | undefined, connected: boolean): boolean {
  if (!memory || !connected || memory.known.has(e.id)) return false;
  // Control nodes' clocks may differ a little; only a runner clearly up before the dispatch counts
  // (the leader's time; started_at may be a runner's).
  return memory.upSince < e.dispatched_at - 1000;
}
