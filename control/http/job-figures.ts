import type { JobJson } from "../../shared";
import { scheduleOf } from "../jobs";
import { jobDrift, jobLateness, type StateDb, type StoredJob } from "../store";

/**
 * The figures GET /v1/jobs/:name adds to a job, read from its retained history: start lateness of
 * its scheduled runs and, for an @every job, how its actual cadence compares with the configured one.
 */
export function jobFigures(state: StateDb, job: StoredJob): Required<Pick<JobJson, "lateness" | "drift">> {
  const schedule = scheduleOf(job.spec);
  // An @every schedule's first slot after its anchor is one interval on.
  const everyMs = schedule?.kind === "every" ? schedule.next(0, 0) : null;
  return {
    lateness: jobLateness(state, job.spec.name),
    drift: everyMs === null ? null : jobDrift(state, job.spec.name, everyMs, job.anchor),
  };
}
