import { asc } from "drizzle-orm";
import type { StateDb } from "./db";
import type { OwedRun } from "./rows";
import { owedDependentRuns } from "./schema";
import { statements } from "./statements";

/** Every dependent run still owed (all jobs), oldest mark first. */
export function owedRuns(s: StateDb): OwedRun[] {
  return s.db
    .select()
    .from(owedDependentRuns)
    .orderBy(asc(owedDependentRuns.mark), asc(owedDependentRuns.jobName))
    .all();
}

/** Whether the run owed to `job` under `mark` has not started yet. */
export function isOwed(s: StateDb, job: string, mark: number): boolean {
  return statements(s).owedByMark.get({ job, mark }) !== undefined;
}
