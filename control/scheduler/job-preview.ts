import { type PreviewEntry, previewSchedule, type Schedule } from "../../shared";
import { scheduleOf } from "../jobs";
import type { StoredJob } from "../store";
import { toPlanJob } from "./job-plan";
import { nextSlot } from "./plan";

/**
 * The job's next `n` runs after `now` as the scheduler will start them (GET /v1/jobs/:job?next=N):
 * from where `next` is computed, `@every` counted from the stored anchor, nothing before starts_at
 * or after expires_at; none for child, @manually and disabled jobs. Wall times a `skip` rule drops
 * are listed too (not counted).
 */
export function previewJob(job: StoredJob, now: number, n: number): PreviewEntry[] {
  const plan = toPlanJob(job);
  const schedule = scheduleOf(job.spec);
  if (plan === null || schedule === null) return [];
  const { starts_at: startsAt, expires_at: expiresAt } = job.spec;
  const inWindow = (t: number) =>
    (startsAt === null || t >= startsAt) && (expiresAt === null || t <= expiresAt);
  const bounded: Schedule = {
    ...schedule,
    next: (after) => nextSlot(plan, after),
    dstSkips: (from, to) => schedule.dstSkips(from, to).filter((s) => inWindow(s.at)),
  };
  return previewSchedule(bounded, Math.max(plan.cursor, now), n).entries;
}
