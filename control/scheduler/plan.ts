import type { CatchupPolicy } from "./policy";

/** What the planner needs to know about one job (pure data; the schedule is a function). */
export interface PlanJob {
  name: string;
  /** Next fire instant strictly after `after`, or null (the parsed schedule, anchored). */
  next: (after: number) => number | null;
  /** No slot at or before this instant may start (last started slot or when the schedule was set). */
  cursor: number;
  startsAt: number | null;
  expiresAt: number | null;
  catchup: CatchupPolicy;
  catchupDeadlineMs: number;
}

/** A slot to start now, or to record as missed. */
export interface PlannedSlot {
  at: number;
  action: "run" | "catchup" | "missed";
}

/** The planner's answer for one job. */
export interface Plan {
  /** Slots to act on, ascending (the cursor moves through them in order). */
  slots: PlannedSlot[];
  /** Missed slots not listed individually (beyond `maxListed`), summarised by the last listed one. */
  unlisted: number;
  /** First slot after `now`, for the timer; null if the schedule has ended. */
  next: number | null;
}

/** Planner limits. */
export interface PlanOptions {
  /** At most this many past slots are enumerated per call. */
  maxSlots: number;
  /** At most this many missed slots are listed individually. */
  maxListed: number;
  /**
   * A slot more than this late is treated as missed even while the scheduler ran (the host was
   * suspended or the process stalled): it follows the catch-up policy instead of firing in a burst.
   */
  stallMs: number;
}

/** Default planner limits. */
export const DEFAULT_PLAN_OPTIONS: PlanOptions = { maxSlots: 100_000, maxListed: 20, stallMs: 60_000 };

/** First slot of the job strictly after `after`, honouring starts_at and expires_at. */
export function nextSlot(job: PlanJob, after: number): number | null {
  const from = job.startsAt !== null ? Math.max(after, job.startsAt - 1) : after;
  const t = job.next(from);
  if (t === null) return null;
  if (job.expiresAt !== null && t > job.expiresAt) return null;
  return t;
}

/**
 * Plans which slots of a job to start at `now`: every slot in (cursor, now] is accounted for.
 * Slots due since this scheduler started (`since`) are run even if the timer was late (up to
 * `stallMs`); older
 * ones (missed while no leader was scheduling) follow the job's catch-up policy and the rest are
 * recorded as missed, never silently dropped.
 */
export function planJob(
  job: PlanJob,
  now: number,
  since: number,
  opts: PlanOptions = DEFAULT_PLAN_OPTIONS,
): Plan {
  const due: number[] = [];
  let cursor = job.cursor;
  let next: number | null = null;
  for (;;) {
    const t = nextSlot(job, cursor);
    if (t === null) break;
    if (t > now) {
      next = t;
      break;
    }
    due.push(t);
    cursor = t;
    if (due.length >= opts.maxSlots) {
      next = nextSlot(job, now);
      break;
    }
  }
  const onTime = due.filter((t) => t >= since && now - t <= opts.stallMs);
  const late = due.filter((t) => t < since || now - t > opts.stallMs);
  // Late slots run by the policy, within the starting deadline for "all" as for "latest" (a day's
  // outage must not start a day of slots at once); every other late slot is recorded as missed.
  const inTime = (t: number) => now - t <= job.catchupDeadlineMs;
  const last = late[late.length - 1];
  const runLate =
    job.catchup === "all"
      ? late.filter(inTime)
      : job.catchup === "latest" && onTime.length === 0 && last !== undefined && inTime(last)
        ? [last]
        : [];
  const running = new Set(runLate);
  const missed = late.filter((t) => !running.has(t));
  const listed = missed.slice(Math.max(0, missed.length - opts.maxListed));
  return {
    slots: [
      ...listed.map((t) => ({ at: t, action: "missed" as const })),
      ...runLate.map((t) => ({ at: t, action: "catchup" as const })),
      ...onTime.map((t) => ({ at: t, action: "run" as const })),
    ],
    unlisted: missed.length - listed.length,
    next,
  };
}
