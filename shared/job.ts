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

/**
 * Size limits of the fields the API accepts: generous for any real job, small enough that no single
 * job can make the state, the Raft log or a listing heavy. Dkron has none; restore stores a job over
 * them with a warning (DkronJobInputSchema), the API refuses it naming the field.
 */
export const JOB_LIMITS = {
  /** displayname, owner, owner_email, parent_job. */
  text: 1024,
  schedule: 256,
  timezone: 64,
  /** Entries of tags, metadata, executor_config, and of each processor's config. */
  mapEntries: 64,
  mapKey: 256,
  tagValue: 1024,
  metadataValue: 4096,
  processors: 16,
  /** One executor_config value (a command, an env list, a request body). */
  configValue: 64 * 1024,
} as const;

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);

/** A string map within the limits; `value` is the schema of one value. */
function limitedMap<V extends z.ZodType>(value: V) {
  return z
    .record(z.string(), value)
    .refine((m) => Object.keys(m).length <= JOB_LIMITS.mapEntries, {
      message: `at most ${JOB_LIMITS.mapEntries} entries`,
    })
    .refine((m) => Object.keys(m).every((k) => k.length <= JOB_LIMITS.mapKey), {
      message: `keys must be at most ${JOB_LIMITS.mapKey} characters`,
    });
}

const limitedConfig = limitedMap(
  z
    .union([z.string(), z.number(), z.boolean()])
    .transform(String)
    .refine((v) => v.length <= JOB_LIMITS.configValue, {
      message: `values must be at most ${JOB_LIMITS.configValue} characters`,
    }),
);

/** Longest job name the API accepts (Dkron has no limit; restore stores a longer one with a warning). */
export const MAX_JOB_NAME = 200;

/** Most retries the API accepts (Dkron has no limit; restore stores more with a warning). */
export const MAX_RETRIES = 100;

const illegalNameChar = (name: string, ctx: z.RefinementCtx) => {
  const bad = [...name].find((c) => !JOB_NAME_RE.test(c));
  if (bad !== undefined) {
    ctx.addIssue({
      code: "custom",
      message: `contains illegal character '${bad}' (use lowercase letters, digits, _ and -)`,
    });
  }
};

const jobName = z
  .string({ error: "is required" })
  .min(1, "cannot be empty")
  .max(MAX_JOB_NAME, `must be at most ${MAX_JOB_NAME} characters`)
  .superRefine(illegalNameChar);

/**
 * The job body the API accepts (Dkron's JSON field names and defaults). Read-only fields a client
 * may echo back (id, counters, status, next, dependent_jobs) are accepted and ignored; unknown
 * fields are ignored as Dkron does.
 */
export const JobInputSchema = z.object({
  name: jobName,
  displayname: text(JOB_LIMITS.text).default(""),
  timezone: text(JOB_LIMITS.timezone).default(""),
  schedule: text(JOB_LIMITS.schedule).default(""),
  owner: text(JOB_LIMITS.text).default(""),
  owner_email: text(JOB_LIMITS.text).default(""),
  disabled: z.boolean().default(false),
  tags: limitedMap(text(JOB_LIMITS.tagValue)).nullable().default(null),
  metadata: limitedMap(text(JOB_LIMITS.metadataValue)).nullable().default(null),
  retries: z
    .number()
    .int("must be an integer")
    .min(0, "cannot be negative")
    .max(MAX_RETRIES, `at most ${MAX_RETRIES}`)
    .default(0),
  parent_job: text(JOB_LIMITS.text).default(""),
  processors: z
    .record(z.string(), limitedConfig)
    .refine((m) => Object.keys(m).length <= JOB_LIMITS.processors, {
      message: `at most ${JOB_LIMITS.processors} processors`,
    })
    .nullable()
    .default({}),
  concurrency: z
    .union([z.literal(""), z.enum(["allow", "forbid"])], {
      error: 'invalid concurrency policy value, use "allow" or "forbid"',
    })
    .default("allow")
    .transform((c) => (c === "" ? "allow" : c)),
  executor: z.string().default(""),
  executor_config: limitedConfig.nullable().default(null),
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

/**
 * The job body as Dkron itself accepts it: JobInputSchema without our own limits (name length,
 * retries, field sizes). POST /v1/restore parses with it, so a Dkron backup is never refused for a limit Dkron does
 * not have; what JobInputSchema says about the same body becomes the job's warnings.
 */
export const DkronJobInputSchema = JobInputSchema.extend({
  name: z.string({ error: "is required" }).min(1, "cannot be empty").superRefine(illegalNameChar),
  retries: z.number().int("must be an integer").min(0, "cannot be negative").default(0),
  displayname: z.string().default(""),
  timezone: z.string().default(""),
  schedule: z.string().default(""),
  owner: z.string().default(""),
  owner_email: z.string().default(""),
  tags: z.record(z.string(), z.string()).nullable().default(null),
  metadata: z.record(z.string(), z.string()).nullable().default(null),
  parent_job: z.string().default(""),
  processors: z.record(z.string(), stringMap).nullable().default({}),
  executor_config: stringMap.nullable().default(null),
});

/**
 * The counters a job's JSON carries (read-only through the API). A backup restores them as Dkron's
 * does ("all jobs and counters as they were in the export file"); Dkron's `running` status, a
 * moment rather than a result, restores as never run.
 */
export const JobCountersSchema = z.object({
  success_count: z.number().int("must be an integer").min(0, "cannot be negative").default(0),
  error_count: z.number().int("must be an integer").min(0, "cannot be negative").default(0),
  last_success: nullableTime,
  last_error: nullableTime,
  status: z
    // A message without the word "fail": clients search restore results for it.
    .union([z.enum(["", "success", "failed", "partially_failed", "running"]), z.null()], {
      error: "is not a Dkron job status",
    })
    .default("")
    .transform((s): JobStatus => (s === null || s === "running" ? "" : s)),
});

/** A job's counters as a backup carries them. */
export type JobCounters = z.output<typeof JobCountersSchema>;

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
  /**
   * What this build dislikes about a job that POST /v1/restore stored anyway because Dkron would
   * (an http job without a usable url, an unknown executor, ...); absent when there is nothing.
   */
  warnings?: string[];
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
  /** Present only when restore stored the job with warnings (JobState.warnings). */
  warnings?: string[];
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
    ...(job.warnings?.length ? { warnings: job.warnings } : {}),
  };
}
