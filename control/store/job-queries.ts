import { asc, eq } from "drizzle-orm";
import type { StateDb } from "./db";
import { type StoredJob, storedJobFromRow } from "./rows";
import { jobs } from "./schema";

/** Names of the jobs whose parent is `name` (dependent_jobs is derived, never stored). */
export function dependentsOf(s: StateDb, name: string): string[] {
  return s.db
    .select({ name: jobs.name })
    .from(jobs)
    .where(eq(jobs.parentJob, name))
    .orderBy(asc(jobs.name))
    .all()
    .map((r) => r.name);
}

/** One stored job, or undefined. */
export function getStoredJob(s: StateDb, name: string): StoredJob | undefined {
  const row = s.db.select().from(jobs).where(eq(jobs.name, name)).get();
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
