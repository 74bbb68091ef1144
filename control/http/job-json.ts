import { type Job, type JobJson, jobToJson } from "../../shared";
import type { Identity } from "../auth";
import { coversJob } from "../auth";
import { nextFire } from "../scheduler";
import type { StoredJob } from "../store";

/** A stored job as the API shows it at `now`; to a prefix-limited caller, without dependents outside its prefix. */
export function renderJob(j: StoredJob, now: number, who?: Identity): JobJson {
  const job: Job = {
    ...j.spec,
    success_count: j.successCount,
    error_count: j.errorCount,
    last_success: j.lastSuccess,
    last_error: j.lastError,
    skipped_count: j.skippedCount,
    last_skipped: j.lastSkipped,
    status: j.status,
    next: nextFire(j, now),
    dependent_jobs: who?.prefix ? j.dependents.filter((d) => coversJob(who, d)) : j.dependents,
    warnings: j.warnings,
  };
  return jobToJson(job);
}
