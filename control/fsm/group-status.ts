import type { Execution } from "../../shared/execution";
import type { JobStatus } from "../../shared/job";

/** Outcome of a run group: complete with a status, or still waiting on a run or a pending retry. */
export type GroupOutcome = { complete: false } | { complete: true; status: Exclude<JobStatus, ""> };

/** True when a failed attempt will be retried (Dkron: attempt < retries + 1). */
export function retryPending(e: Execution, retries: number): boolean {
  return e.state !== "running" && e.state !== "missed" && !e.success && e.attempt < retries + 1;
}

/**
 * Status of a run group from the final attempt of each target (Dkron counts every attempt, so a
 * failure followed by a successful retry ends as partially_failed; we judge the final attempt).
 * Each retry supersedes one failed record of the attempt before it, whichever runner it ran on (a
 * retry moves to another runner when the first is gone), so records are counted per attempt, not
 * per node. Missed records do not count.
 */
export function groupOutcome(group: readonly Execution[], retries: number): GroupOutcome {
  const runs = group.filter((e) => e.state !== "missed");
  if (runs.length === 0) return { complete: false };
  const failed = new Map<number, number>();
  const started = new Map<number, number>();
  let ok = 0;
  for (const e of runs) {
    if (e.state === "running") return { complete: false };
    started.set(e.attempt, (started.get(e.attempt) ?? 0) + 1);
    if (e.success) ok++;
    else failed.set(e.attempt, (failed.get(e.attempt) ?? 0) + 1);
  }
  let bad = 0;
  for (const [attempt, n] of failed) {
    const final = Math.max(0, n - (started.get(attempt + 1) ?? 0));
    if (final === 0) continue;
    if (attempt < retries + 1) return { complete: false }; // a retry is still to come
    bad += final;
  }
  return { complete: true, status: bad === 0 ? "success" : ok === 0 ? "failed" : "partially_failed" };
}
