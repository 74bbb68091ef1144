import type { Execution } from "../../shared/execution";
import type { JobStatus } from "../../shared/job";

/** Outcome of a run group: complete with a status, or still waiting on a run or a pending retry. */
export type GroupOutcome = { complete: false } | { complete: true; status: Exclude<JobStatus, ""> };

/** True when a failed attempt will be retried (Dkron: attempt < retries + 1). */
export function retryPending(e: Execution, retries: number): boolean {
  return e.state !== "running" && e.state !== "missed" && !e.success && e.attempt < retries + 1;
}

/**
 * Status of a run group from each target's LATEST attempt (Dkron counts every attempt, so a
 * failure followed by a successful retry ends as partially_failed; we judge the final attempt).
 * Missed records do not count.
 */
export function groupOutcome(group: readonly Execution[], retries: number): GroupOutcome {
  const latest = new Map<string, Execution>();
  for (const e of group) {
    if (e.state === "missed") continue;
    const prev = latest.get(e.node_name);
    if (!prev || e.attempt > prev.attempt) latest.set(e.node_name, e);
  }
  if (latest.size === 0) return { complete: false };
  let ok = 0;
  let bad = 0;
  for (const e of latest.values()) {
    if (e.state === "running" || retryPending(e, retries)) return { complete: false };
    if (e.success) ok++;
    else bad++;
  }
  return { complete: true, status: bad === 0 ? "success" : ok === 0 ? "failed" : "partially_failed" };
}
