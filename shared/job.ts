import { z } from "zod";
import type { DriftJson, LatenessJson } from "./lateness";
import { type DstPolicy, readDstPolicy } from "./schedule";
import { nullableTime, toRfc3339, ZERO_TIME } from "./time";

/** Dkron's job-name rule: Unicode lowercase letters, ASCII digits, `_` and `-`. */
export const JOB_NAME_RE = /^[\p{Ll}0-9_-]+$/u;

/** Executors this build runs; a job naming another one is rejected at create time. */
export const EXECUTORS = ["shell", "http"] as const;

/** Catch-up policy for slots missed while no leader was scheduling. */
export const CATCHUP_POLICIES = ["latest", "none", "all"] as const;

const stringMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));

const jobName = z
  .string({ error: "is required" })
  .min(1, "cannot be empty")
  .max(200, "must be at most 200 characters")
  .superRefine((name, ctx) => {
    const bad = [...name].find((c) => !JOB_NAME_RE.test(c));
    if (bad !== undefined) {
      ctx.addIssue({
        code: "custom",
        message: `contains illegal character '${bad}' (use lowercase letters, digits, _ and -)`,
      });
    }
  });

/**
 * The job body the API accepts (Dkron's JSON field names and defaults). Read-only fields a client
 * may echo back (id, counters, status, next, dependent_jobs) are accepted and ignored; unknown
 * fields are ignored as Dkron does.
 */
export const JobInputSchema = z.object({
  name: jobName,
  displayname: z.string().default(""),
  timezone: z.string().default(""),
  schedule: z.string().default(""),
  owner: z.string().default(""),
  owner_email: z.string().default(""),
  disabled: z.boolean().default(false),
  tags: z.record(z.string(), z.string()).nullable().default(null),
  metadata: z.record(z.string(), z.string()).nullable().default(null),
  retries: z
    .number()
    .int("must be an integer")
    .min(0, "cannot be negative")
    .max(100, "at most 100")
    .default(0),
  parent_job: z.string().default(""),
  processors: z.record(z.string(), stringMap).nullable().default({}),
  concurrency: z
    .union([z.literal(""), z.enum(["allow", "forbid"])], {
      error: 'invalid concurrency policy value, use "allow" or "forbid"',
    })
    .default("allow")
    .transform((c) => (c === "" ? "allow" : c)),
  executor: z.string().default(""),
  executor_config: stringMap.nullable().default(null),
  ephemeral: z.boolean().default(false),
  starts_at: nullableTime,
  expires_at: nullableTime,
  /** Our extension: what to do with slots missed while no leader was scheduling. */
  catchup: z.enum(CATCHUP_POLICIES).default("latest"),
  /** Our extension: a missed slot older than this (ms) is recorded as missed instead of run. */
  catchup_deadline: z.number().int().min(0).default(3_600_000),
  /**
   * Our extension: how a cron schedule treats DST transitions (shared/schedule/dst.ts). `auto` is
   * Vixie cron's rule; stored in canonical form ("skip,twice" becomes "twice,skip").
   */
  dst: z
    .string()
    .default("auto")
    .transform((text, ctx): DstPolicy => {
      const r = readDstPolicy(text);
      if ("policy" in r) return r.policy;
      ctx.addIssue({ code: "custom", message: r.problem });
      return z.NEVER;
    }),
});

/** A validated job definition: what the user controls. */
export type JobSpec = z.output<typeof JobInputSchema>;
/** The raw body shape before defaults. */
export type JobInput = z.input<typeof JobInputSchema>;

/** Job status values (Dkron's): "" never run. */
export type JobStatus = "" | "success" | "failed" | "partially_failed";

/** Server-maintained fields kept beside the spec. */
export interface JobState {
  success_count: number;
  error_count: number;
  last_success: number | null;
  last_error: number | null;
  /** Our extension: scheduled slots passed over because a `forbid` run was still going. */
  skipped_count: number;
  /** Our extension: the latest slot so passed over (its scheduled time), or null. */
  last_skipped: number | null;
  status: JobStatus;
  /** Next fire instant (ms) or null; computed from the schedule, never stored stale. */
  next: number | null;
  dependent_jobs: string[];
}

/** A stored job: the spec plus server-maintained state. */
export type Job = JobSpec & JobState;

/** The Dkron JSON rendering of a job. */
export interface JobJson {
  id: string;
  name: string;
  displayname: string;
  timezone: string;
  schedule: string;
  owner: string;
  owner_email: string;
  success_count: number;
  error_count: number;
  last_success: string | null;
  last_error: string | null;
  skipped_count: number;
  last_skipped: string | null;
  disabled: boolean;
  tags: Record<string, string> | null;
  metadata: Record<string, string> | null;
  retries: number;
  dependent_jobs: string[] | null;
  parent_job: string;
  processors: Record<string, Record<string, string>> | null;
  concurrency: string;
  executor: string;
  executor_config: Record<string, string> | null;
  status: string;
  next: string;
  ephemeral: boolean;
  starts_at: string | null;
  expires_at: string | null;
  catchup: string;
  catchup_deadline: number;
  dst: string;
  /** Start lateness over the retained history: on GET /v1/jobs/:name only (null: no samples). */
  lateness?: LatenessJson | null;
  /** Cadence drift of an @every job: on GET /v1/jobs/:name only (null: other schedules, too few runs). */
  drift?: DriftJson | null;
}

/** Renders a stored job in Dkron's JSON shape. */
export function jobToJson(job: Job): JobJson {
  return {
    id: job.name,
    name: job.name,
    displayname: job.displayname,
    timezone: job.timezone,
    schedule: job.schedule,
    owner: job.owner,
    owner_email: job.owner_email,
    success_count: job.success_count,
    error_count: job.error_count,
    last_success: toRfc3339(job.last_success),
    last_error: toRfc3339(job.last_error),
    skipped_count: job.skipped_count,
    last_skipped: toRfc3339(job.last_skipped),
    disabled: job.disabled,
    tags: job.tags,
    metadata: job.metadata,
    retries: job.retries,
    dependent_jobs: job.dependent_jobs.length ? job.dependent_jobs : null,
    parent_job: job.parent_job,
    processors: job.processors,
    concurrency: job.concurrency,
    executor: job.executor,
    executor_config: job.executor_config,
    status: job.status,
    next: toRfc3339(job.next) ?? ZERO_TIME,
    ephemeral: job.ephemeral,
    starts_at: toRfc3339(job.starts_at),
    expires_at: toRfc3339(job.expires_at),
    catchup: job.catchup,
    catchup_deadline: job.catchup_deadline,
    dst: job.dst,
  };
}
