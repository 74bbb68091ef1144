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
  /** Wall times the job's DST rule does not run, at transitions in (after, until], with a note each. */
  dstSkips: (after: number, until: number) => readonly { at: number; note: string }[];
}

/** A slot to start now, or to record as missed or skipped by the DST rule. */
export interface PlannedSlot {
  at: number;
  action: "run" | "catchup" | "missed" | "skipped-dst";
  /** For skipped-dst: which wall times and why. */
  note?: string;
}

/** The planner's answer for one job. */
export interface Plan {
  /** Slots to act on, ascending (the cursor moves through them in order). */
  slots: PlannedSlot[];
  /** Missed slots not listed individually (beyond `maxListed`), summarised by the last listed one. */
  unlisted: number;
  /** When to plan again: the first slot (or DST skip to record) after `now`; null if the schedule has ended. */
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
 * recorded as missed, never silently dropped. Wall times the DST rule skips are recorded too, each
 * transition once, before any slot at the same instant.
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
  const slots: PlannedSlot[] = [
    ...listed.map((t) => ({ at: t, action: "missed" as const })),
    ...runLate.map((t) => ({ at: t, action: "catchup" as const })),
    ...onTime.map((t) => ({ at: t, action: "run" as const })),
  ];
  const inWindow = (t: number) =>
    (job.startsAt === null || t >= job.startsAt) && (job.expiresAt === null || t <= job.expiresAt);
  // Skips up to the next slot: those due now are recorded, the first later one wakes the planner.
  // From cursor + 1: a recorded skip leaves the cursor 1 ms before its instant (see the FSM's fence).
  const skips = job.dstSkips(job.cursor + 1, next ?? now).filter((k) => inWindow(k.at));
  const skipsDue = skips.filter((k) => k.at <= now);
  const skipLater = skips.find((k) => k.at > now);
  if (skipsDue.length > 0) {
    slots.push(...skipsDue.map((k) => ({ at: k.at, action: "skipped-dst" as const, note: k.note })));
    // Stable sort: a skip at an instant goes before a slot there (its fence sits 1 ms earlier).
    slots.sort((a, b) => a.at - b.at || rank(a) - rank(b));
  }
  return {
    slots,
    unlisted: missed.length - listed.length,
    next: skipLater !== undefined && (next === null || skipLater.at < next) ? skipLater.at : next,
  };
}

const rank = (s: PlannedSlot) => (s.action === "skipped-dst" ? 0 : 1);
