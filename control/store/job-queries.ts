import { asc } from "drizzle-orm";
import type { StateDb } from "./db";
import { type JobRow, type StoredJob, storedJobFromRow } from "./rows";
import { jobs } from "./schema";
import { statements } from "./statements";

/** Names of the jobs whose parent is `name` (dependent_jobs is derived, never stored). */
export function dependentsOf(s: StateDb, name: string): string[] {
  return statements(s)
    .jobDependents.all({ name })
    .map((r) => r.name);
}

/** One jobs row, or undefined: for callers that need neither the parsed spec nor the dependents. */
export function getJobRow(s: StateDb, name: string): JobRow | undefined {
  return statements(s).jobByName.get({ name });
}

/** One stored job, or undefined. */
export function getStoredJob(s: StateDb, name: string): StoredJob | undefined {
  const row = getJobRow(s, name);
  return row ? storedJobFromRow(row, dependentsOf(s, name)) : undefined;
}

/** Every stored job, by name. */
export function listStoredJobs(s: StateDb): StoredJob[] {
  const rows = s.db.select().from(jobs).orderBy(asc(jobs.name)).all();
  const children = new Map<string, string[]>();
  for (const r of rows) {
    if (!r.parentJob) continue;
    const list = children.get(r.parentJob) ?? [];
    list.push(r.name);
    children.set(r.parentJob, list);
  }
  return rows.map((r) => storedJobFromRow(r, children.get(r.name) ?? []));
}

/**
 * Jobs whose wake_at is in (after, until], by the wake_at index: the scheduler's window of jobs due
 * soon (see job-index.ts).
 */
export function jobsWaking(s: StateDb, after: number, until: number): { name: string; at: number }[] {
  return statements(s).jobsWaking.all({ after, until }) as { name: string; at: number }[];
}
