import type { JobSpec } from "../../shared";
import { scheduleOf } from "./validate-job";

/** The times a job's stored row is indexed by (see control/store/job-index.ts). */
export interface JobTimes {
  /** The first slot strictly after the cursor within starts_at/expires_at, or null: `next` once it is future. */
  nextFire: number | null;
  /** When the scheduler must plan the job: nextFire, or an earlier wall time its DST rule skips. */
  wakeAt: number | null;
}

const NONE: JobTimes = { nextFire: null, wakeAt: null };

/**
 * A job's due times from its spec, @every anchor and cursor: the same rules as the scheduler's
 * planner (control/scheduler/plan.ts nextSlot and the DST skips it records), so the scheduler can load
 * the jobs due soon by an index instead of planning every job. Pure: apply computes it.
 */
export function jobTimes(spec: JobSpec, anchor: number, cursor: number): JobTimes {
  if (spec.disabled) return NONE;
  const schedule = scheduleOf(spec);
  if (!schedule) return NONE;
  const startsAt = spec.starts_at;
  const expiresAt = spec.expires_at;
  const from = startsAt !== null ? Math.max(cursor, startsAt - 1) : cursor;
  const t = schedule.next(from, anchor);
  const nextFire = t === null || (expiresAt !== null && t > expiresAt) ? null : t;
  if (nextFire === null) return NONE;
  const inWindow = (at: number) =>
    (startsAt === null || at >= startsAt) && (expiresAt === null || at <= expiresAt);
  // From cursor + 1, as the planner: a recorded skip leaves the cursor 1 ms before its instant.
  const skip = schedule.dstSkips(cursor + 1, nextFire).find((k) => inWindow(k.at));
  return { nextFire, wakeAt: skip !== undefined && skip.at < nextFire ? skip.at : nextFire };
}
