import { describeDstSkip } from "../../shared";
import { scheduleOf } from "../jobs";
import type { StoredJob } from "../store";
import { nextSlot, type PlanJob } from "./plan";

/** The planner's view of a stored job, or null when it never fires on its own. */
export function toPlanJob(job: StoredJob): PlanJob | null {
  if (job.spec.disabled) return null;
  const schedule = scheduleOf(job.spec);
  if (!schedule) return null;
  return {
    name: job.spec.name,
    next: (after) => schedule.next(after, job.anchor),
    cursor: job.cursor,
    startsAt: job.spec.starts_at,
    expiresAt: job.spec.expires_at,
    catchup: job.spec.catchup,
    catchupDeadlineMs: job.spec.catchup_deadline,
    dstSkips: (after, until) =>
      schedule
        .dstSkips(after, until)
        .map((k) => ({ at: k.at, note: `${describeDstSkip(k)} in ${schedule.timezone}` })),
  };
}

/** The job's next fire instant after `now` (what `next` shows in the API), or null. */
export function nextFire(job: StoredJob, now: number): number | null {
  const p = toPlanJob(job);
  return p ? nextSlot(p, Math.max(p.cursor, now)) : null;
}
