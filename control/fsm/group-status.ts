import { type Execution, isNotRun, type JobStatus } from "../../shared";

/** Outcome of a run group: complete with a status, or still waiting on a run or a pending retry. */
export type GroupOutcome = { complete: false } | { complete: true; status: Exclude<JobStatus, ""> };

/** True when a failed attempt will be retried (Dkron: attempt < retries + 1). */
export function retryPending(e: Execution, retries: number): boolean {
  return e.state !== "running" && !isNotRun(e) && !e.success && e.attempt < retries + 1;
}

/**
 * Failed records of a group that no later attempt supersedes yet and that are still to be retried
 * (a retry supersedes a failed record on its own runner first, then any), in id order.
 */
export function retriesOwed(group: readonly Execution[], retries: number): Execution[] {
  const byAttempt = new Map<number, Execution[]>();
  for (const e of [...group].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    if (isNotRun(e)) continue;
    byAttempt.set(e.attempt, [...(byAttempt.get(e.attempt) ?? []), e]);
  }
  const owed: Execution[] = [];
  for (const [attempt, records] of byAttempt) {
    if (attempt >= retries + 1) continue;
    const next = [...(byAttempt.get(attempt + 1) ?? [])];
    const unmatched = records.filter((f) => {
      if (f.state === "running" || f.success) return false;
      const i = next.findIndex((n) => n.node_name === f.node_name);
      if (i < 0) return true;
      next.splice(i, 1);
      return false;
    });
    owed.push(...unmatched.slice(next.length));
  }
  return owed;
}

/**
 * Status of a run group from the final attempt of each target (Dkron counts every attempt, so a
 * failure followed by a successful retry ends as partially_failed; we judge the final attempt).
 * Each retry supersedes one failed record of the attempt before it, whichever runner it ran on (a
 * retry moves to another runner when the first is gone), so records are counted per attempt, not
 * per node. Missed and skipped-dst records do not count.
 */
export function groupOutcome(group: readonly Execution[], retries: number): GroupOutcome {
  const runs = group.filter((e) => !isNotRun(e));
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
