import { AppError } from "./errors";
import { type DstPolicy, type DstRule, parseDstPolicy, parseSchedule, type Schedule } from "./schedule";
import { followsRealTime } from "./schedule/index";
import { type PreviewEntry, previewSchedule } from "./schedule-preview";
import { toRfc3339 } from "./time";

// Previewing a schedule that is not saved yet: what GET /v1/schedule/preview answers and what
// `dkron schedule preview` prints, computed by the same code either way.

/** Most runs one preview lists (GET /v1/jobs/:job?next=N, /v1/schedule/preview, the CLI's -n). */
export const MAX_PREVIEW_RUNS = 1000;

/** Runs a preview lists when the caller does not say. */
export const DEFAULT_PREVIEW_RUNS = 10;

/** What to preview: a schedule as a job would carry it, and from when. */
export interface ExpressionPreviewInput {
  schedule: string;
  /** IANA zone; empty means UTC, as on a job. */
  timezone: string;
  /** The job's `dst` policy as typed (`auto` when empty). */
  dst: string;
  /** How many runs to list, 1..MAX_PREVIEW_RUNS. */
  n: number;
  /** List runs strictly after this instant (ms); an `@every` schedule counts from it, as if saved then. */
  from: number;
  /** The job's name, which Dkron's `~` in a cron field is derived from. */
  name: string;
}

/** The answer of GET /v1/schedule/preview. */
export interface SchedulePreviewJson {
  /** The schedule as given. */
  schedule: string;
  /** Its normalised form: six seconds-first fields for cron and descriptors, else the `@` spec. */
  expression: string;
  /** The zone it runs in ("UTC" when none): a `TZ=` prefix, else `timezone`. */
  timezone: string;
  dst: {
    /** The policy, canonical. */
    policy: DstPolicy;
    /** The concrete rule it resolves to; null for @every, @at and @manually (real instants). */
    rule: DstRule | null;
    /** Why that rule, in words. */
    reason: string;
  };
  /** The instant the runs are listed after, RFC3339 UTC. */
  from: string;
  entries: PreviewEntry[];
}

/** Whether a count of runs is acceptable; the problem in words otherwise. */
export function readPreviewCount(text: string): { n: number } | { problem: string } {
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_PREVIEW_RUNS)
    return { problem: `must be an integer from 1 to ${MAX_PREVIEW_RUNS}, got "${text}"` };
  return { n };
}

/**
 * Parses and previews a schedule: its DST rule and why, and its next `n` runs with offsets and
 * transition marks (wall times a `skip` rule drops listed too, not counted). Throws AppError
 * VALIDATION naming `schedule`, `timezone`, `dst`, `n` or `name`.
 */
export function previewExpression(input: ExpressionPreviewInput): SchedulePreviewJson {
  const { n } = input;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_PREVIEW_RUNS) {
    throw new AppError("VALIDATION", `n: must be an integer from 1 to ${MAX_PREVIEW_RUNS}, got ${n}`, {
      field: "n",
    });
  }
  const policy = parseDstPolicy(input.dst === "" ? "auto" : input.dst);
  const schedule = parseSchedule(input.schedule, {
    jobName: input.name,
    timezone: input.timezone,
    dst: policy,
  });
  if (input.name === "" && schedule.kind === "cron" && input.schedule.includes("~")) {
    throw new AppError(
      "VALIDATION",
      "name: the schedule uses ~, which is derived from the job's name; give the name",
      { field: "name" },
    );
  }
  const preview = previewSchedule(schedule, input.from, n, input.from);
  return {
    schedule: input.schedule,
    expression: schedule.expression,
    timezone: preview.timezone,
    dst: { policy, rule: schedule.dst, reason: dstReason(schedule, policy) },
    from: toRfc3339(input.from) ?? "",
    entries: preview.entries,
  };
}

/** A DST rule as its policy words: `twice,skip`. */
export function ruleWords(rule: DstRule): string {
  return `${rule.repeated},${rule.missing}`;
}

const TIME_FIELDS = ["second", "minute", "hour"] as const;

/**
 * Why a schedule runs by the rule it does under a policy: which field makes `auto` follow real time
 * (or that all are fixed), which half a one-word policy left to `auto`, or why DST does not apply.
 */
export function dstReason(schedule: Schedule, policy: DstPolicy): string {
  if (schedule.dst === null) {
    if (schedule.kind === "every") return "@every counts elapsed time; DST transitions do not move it";
    if (schedule.kind === "at") return "@at is one instant; DST transitions do not move it";
    return "@manually never runs on its own";
  }
  if (!policy.includes(",") && policy !== "auto") {
    const half = policy === "once" || policy === "twice" ? "the missing hour" : "the repeated hour";
    return `${half} as auto: ${autoReason(schedule.expression.split(" "))}`;
  }
  if (policy !== "auto") return "both halves given by the policy";
  return autoReason(schedule.expression.split(" "));
}

function autoReason(fields: readonly string[]): string {
  const i = fields.slice(0, 3).findIndex((f) => followsRealTime([f]));
  if (i >= 0) return `follows real time: the ${TIME_FIELDS[i]} field is ${fields[i]}`;
  const [s, m, h] = fields;
  return `fixed times of day: second ${s}, minute ${m} and hour ${h} are neither wildcards nor steps`;
}
