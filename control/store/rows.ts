import type { Execution, ExecutionState, JobSpec, JobStatus, Trigger } from "../../shared";
import type { executions, jobs, owedDependentRuns } from "./schema";

/** A jobs row as drizzle returns it. */
export type JobRow = typeof jobs.$inferSelect;
/** An executions row as drizzle returns it. */
export type ExecutionRow = typeof executions.$inferSelect;
/** A dependent run owed to a child job (an owed_dependent_runs row). */
export type OwedRun = typeof owedDependentRuns.$inferSelect;

/** A stored job before `next` is computed: spec, counters, fences and derived dependents. */
export interface StoredJob {
  spec: JobSpec;
  successCount: number;
  errorCount: number;
  lastSuccess: number | null;
  lastError: number | null;
  skippedCount: number;
  lastSkipped: number | null;
  status: JobStatus;
  anchor: number;
  cursor: number;
  /** The first slot after the cursor (the next_fire column): `next` whenever it is in the future. */
  nextFire: number | null;
  dependents: string[];
  /** What restore stored the job despite (Command `job.put` warnings); empty for most jobs. */
  warnings: string[];
}

/**
 * Spec fields added after jobs were first stored: a spec written (or a log entry proposed) before a
 * field existed reads with its default. Cheaper than re-parsing every row with the zod schema.
 */
const LATER_SPEC_DEFAULTS: Pick<JobSpec, "dst"> = { dst: "auto" };

/** Maps a jobs row (and its derived dependents) to a StoredJob. */
export function storedJobFromRow(row: JobRow, dependents: string[]): StoredJob {
  const { warnings = [], ...spec } = JSON.parse(row.spec) as JobSpec & { warnings?: string[] };
  return {
    spec: { ...LATER_SPEC_DEFAULTS, ...spec },
    successCount: row.successCount,
    errorCount: row.errorCount,
    lastSuccess: row.lastSuccess,
    lastError: row.lastError,
    skippedCount: row.skippedCount,
    lastSkipped: row.lastSkipped,
    status: row.status as JobStatus,
    anchor: row.anchor,
    cursor: row.cursor,
    nextFire: row.nextFire,
    dependents,
    warnings,
  };
}

/** Maps an executions row to the shared Execution type. */
export function executionFromRow(r: ExecutionRow): Execution {
  return {
    id: r.id,
    job_name: r.jobName,
    group: r.group,
    attempt: r.attempt,
    node_name: r.nodeName,
    trigger: r.trigger as Trigger,
    scheduled_at: r.scheduledAt,
    started_at: r.startedAt,
    dispatched_at: r.dispatchedAt,
    start_reported: r.startReported,
    finished_at: r.finishedAt,
    state: r.state as ExecutionState,
    success: r.success,
    output: r.output,
    exit_code: r.exitCode,
  };
}
