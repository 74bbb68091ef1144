import {
  AppError,
  DkronJobInputSchema,
  EXECUTORS,
  isAppError,
  isEmptySchedule,
  type JobCounters,
  JobCountersSchema,
  JobInputSchema,
  type JobSpec,
  parseOrThrow,
  parseSchedule,
  type Schedule,
  subSecondEvery,
  toAppError,
  validateExecutorConfig,
  validateTimezone,
} from "../../shared";

/**
 * Validates an API job body into a JobSpec, or throws AppError VALIDATION naming the field:
 * shape and defaults (zod), then the schedule grammar, time zone, executor and its config.
 * Dkron does not check the executor; an unknown one is rejected here rather than failing every run.
 */
export function validateJob(body: unknown): JobSpec {
  const spec = parseOrThrow(JobInputSchema, mustBeObject(body), "job");
  const lost = mapsWithProtoKey(body as object)[0];
  if (lost !== undefined) throw new AppError("VALIDATION", `${lost}: ${PROTO_KEY_PROBLEM}`, { field: lost });
  checkScheduleAndZone(spec);
  const problem = stricterProblems(spec)[0];
  if (problem) throw problem;
  return spec;
}

/** A job from a backup: the spec to store and what this build dislikes that Dkron does not check. */
export interface RestoredJob {
  spec: JobSpec;
  /** Each one a field and what is wrong with it, e.g. `executor_config.url must be an absolute ...`. */
  warnings: string[];
  /** The backup's counters and status, when it has any (Dkron restores them). */
  counters?: JobCounters;
}

/**
 * Validates a job of a backup as Dkron's restore does (its JSON decoding and `Job.Validate`: name,
 * schedule, time zone, concurrency, a shell job's timeout), throwing AppError VALIDATION for what
 * Dkron refuses too. What only this build refuses (executor, executor_config, name length, retries,
 * starts_at/expires_at) does not stop the job: it comes back as warnings, so the job is stored as
 * Dkron would store it and its runs fail saying why. The backup's counters come back too.
 */
export function validateRestoredJob(body: unknown): RestoredJob {
  const spec = parseOrThrow(DkronJobInputSchema, mustBeObject(body), "job");
  checkScheduleAndZone(spec);
  const strict = JobInputSchema.safeParse(body);
  const warnings = strict.success
    ? []
    : strict.error.issues.map((i) => `${i.path.map(String).join(".")}: ${i.message}`);
  for (const map of mapsWithProtoKey(body as object)) warnings.push(`${map}: ${PROTO_KEY_PROBLEM}; dropped`);
  for (const e of stricterProblems(spec)) {
    const dkronToo =
      spec.executor === "shell" ? e.details?.issues?.find((i) => DKRON_SHELL_CHECKS.has(i.field)) : undefined;
    if (dkronToo) {
      throw new AppError("VALIDATION", `${dkronToo.field} ${dkronToo.message}`, { field: dkronToo.field });
    }
    warnings.push(e.message);
  }
  const counters = JobCountersSchema.safeParse(body);
  if (!counters.success) {
    for (const i of counters.error.issues) {
      warnings.push(`${i.path.map(String).join(".")}: ${i.message} (counters not restored)`);
    }
    return { spec, warnings };
  }
  const c = counters.data;
  const any =
    c.success_count || c.error_count || c.last_success !== null || c.last_error !== null || c.status;
  return { spec, warnings, ...(any ? { counters: c } : {}) };
}

/** The parsed schedule of a stored spec, or null for child jobs and @manually. */
export function scheduleOf(spec: JobSpec): Schedule | null {
  if (spec.parent_job || isEmptySchedule(spec.schedule)) return null;
  // Parsed once per job and schedule, not on every fire and every start's apply (a burst of a
  // thousand jobs parsed each schedule twice). parseSchedule is pure, so a cached one is the same.
  // The job's name only counts for `~` fields (Dkron's name hash): jobs sharing a schedule share
  // one entry, so a hundred thousand jobs on a few schedules stay in the cache.
  const named = spec.schedule.includes("~") ? spec.name : "";
  const key = `${named}\0${spec.schedule}\0${spec.timezone}\0${spec.dst}`;
  let s = parsed.get(key);
  if (!s) {
    s = parseSchedule(spec.schedule, { jobName: spec.name, timezone: spec.timezone, dst: spec.dst });
    // The oldest entry makes room (a Map keeps insertion order): a full cache is not thrown away.
    if (parsed.size >= PARSED_MAX) parsed.delete(parsed.keys().next().value as string);
    parsed.set(key, s);
  }
  return s.kind === "manual" ? null : s;
}

/** Schedules parsed by scheduleOf, oldest first; bounded (refilling costs one parse each). */
const parsed = new Map<string, Schedule>();
const PARSED_MAX = 20_000;

// The executor_config keys Dkron's Job.Validate checks for a shell job (mem_limit is not checked
// here at all: it is accepted and not enforced).
const DKRON_SHELL_CHECKS = new Set(["executor_config.timeout"]);

const PROTO_KEY_PROBLEM = 'the key "__proto__" is not supported';

/**
 * The maps of a job body (tags, metadata, executor_config, processors and each processor's config)
 * with an own "__proto__" key. JSON.parse keeps such a key, but an object built by assignment, as
 * zod builds a record, cannot hold it (assigning it sets the prototype), so parsing drops it without
 * a word; the API refuses it instead and restore says it was dropped.
 */
function mapsWithProtoKey(body: object): string[] {
  const isMap = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  const b = body as Record<string, unknown>;
  const out: string[] = [];
  for (const field of ["tags", "metadata", "executor_config", "processors"]) {
    const map = Object.hasOwn(b, field) ? b[field] : undefined;
    if (!isMap(map)) continue;
    if (Object.hasOwn(map, "__proto__")) out.push(field);
    if (field !== "processors") continue;
    for (const [name, config] of Object.entries(map)) {
      if (isMap(config) && Object.hasOwn(config, "__proto__")) out.push(`processors.${name}`);
    }
  }
  return out;
}

function mustBeObject(body: unknown): object {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new AppError("VALIDATION", "job: the body must be a JSON object", { field: "(body)" });
  }
  return body;
}

/** Dkron's checks beyond the shape: the time zone loads and the schedule parses (children may have none). */
function checkScheduleAndZone(spec: JobSpec): void {
  if (spec.timezone) validateTimezone(spec.timezone);
  // Child jobs run after their parent, so they may have no schedule (as in Dkron).
  if (!(spec.parent_job && isEmptySchedule(spec.schedule)))
    parseSchedule(spec.schedule, { jobName: spec.name, timezone: spec.timezone, dst: spec.dst });
}

/** What this build refuses and Dkron does not check, in the order the API reports it. */
function stricterProblems(spec: JobSpec): AppError[] {
  const out: AppError[] = [];
  if (!spec.executor) {
    out.push(
      new AppError("VALIDATION", `executor: is required (one of ${EXECUTORS.join(", ")})`, {
        field: "executor",
      }),
    );
  } else if (!(EXECUTORS as readonly string[]).includes(spec.executor)) {
    out.push(
      new AppError(
        "VALIDATION",
        `executor: unknown executor "${spec.executor}" (use one of ${EXECUTORS.join(", ")})`,
        { field: "executor" },
      ),
    );
  }
  try {
    validateExecutorConfig(spec.executor, spec.executor_config);
  } catch (e) {
    if (!isAppError(e)) throw e;
    out.push(toAppError(e));
  }
  const tooShort = subSecondEvery(spec.schedule);
  if (tooShort !== null) {
    out.push(
      new AppError(
        "VALIDATION",
        `schedule: @every ${tooShort} is shorter than one second, the finest interval this scheduler runs (Dkron silently runs it every second); use @every 1s or longer`,
        { field: "schedule" },
      ),
    );
  }
  if (spec.starts_at !== null && spec.expires_at !== null && spec.expires_at <= spec.starts_at) {
    out.push(new AppError("VALIDATION", "expires_at: must be after starts_at", { field: "expires_at" }));
  }
  return out;
}
