import { type DriftJson, driftOf, type LatenessJson, latenessOf } from "../../shared";
import type { StateDb } from "./db";
import { statements } from "./statements";

// Per-job start lateness and @every drift over the retained history, read with a few indexed
// queries on one job's executions (at most --execution-retention of them): no execution is loaded
// whole, and the job list never pays for them.

/** Start lateness of `job`'s scheduled runs (first attempts whose runner reported its start), or null. */
export function jobLateness(s: StateDb, job: string): LatenessJson | null {
  const st = statements(s);
  const { n, max } = st.latenessSummary.get({ job })!;
  return latenessOf(n, max ?? 0, (rank) => st.latenessAtOffset.get({ job, offset: rank - 1 })!.v);
}

/**
 * Drift of an @every `job` whose interval is `intervalMs`: the mean interval between its scheduled
 * starts since its schedule was last set (`since`, the job's anchor), or null with fewer than two.
 */
export function jobDrift(s: StateDb, job: string, intervalMs: number, since: number): DriftJson | null {
  const span = statements(s).scheduledStartSpan.get({ job, since })!;
  return driftOf(intervalMs, { count: span.count, first: span.first ?? 0, last: span.last ?? 0 });
}
