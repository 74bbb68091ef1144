import {
  AppError,
  EXECUTORS,
  isEmptySchedule,
  JobInputSchema,
  type JobSpec,
  parseOrThrow,
  parseSchedule,
  type Schedule,
  validateExecutorConfig,
  validateTimezone,
} from "../../shared";

/**
 * Validates an API job body into a JobSpec, or throws AppError VALIDATION naming the field:
 * shape and defaults (zod), then the schedule grammar, time zone, executor and its config.
 * Dkron does not check the executor; an unknown one is rejected here rather than failing every run.
 */
export function validateJob(body: unknown): JobSpec {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new AppError("VALIDATION", "job: the body must be a JSON object", { field: "(body)" });
  }
  const spec = parseOrThrow(JobInputSchema, body, "job");
  if (spec.timezone) validateTimezone(spec.timezone);
  // Child jobs run after their parent, so they may have no schedule (as in Dkron).
  if (!(spec.parent_job && isEmptySchedule(spec.schedule)))
    parseSchedule(spec.schedule, { jobName: spec.name, timezone: spec.timezone, dst: spec.dst });
  if (!spec.executor) {
    throw new AppError("VALIDATION", `executor: is required (one of ${EXECUTORS.join(", ")})`, {
      field: "executor",
    });
  }
  if (!(EXECUTORS as readonly string[]).includes(spec.executor)) {
    throw new AppError(
      "VALIDATION",
      `executor: unknown executor "${spec.executor}" (use one of ${EXECUTORS.join(", ")})`,
      {
        field: "executor",
      },
    );
  }
  validateExecutorConfig(spec.executor, spec.executor_config);
  if (spec.starts_at !== null && spec.expires_at !== null && spec.expires_at <= spec.starts_at) {
    throw new AppError("VALIDATION", "expires_at: must be after starts_at", { field: "expires_at" });
  }
  return spec;
}

/** The parsed schedule of a stored spec, or null for child jobs and @manually. */
export function scheduleOf(spec: JobSpec): Schedule | null {
  if (spec.parent_job || isEmptySchedule(spec.schedule)) return null;
  const s = parseSchedule(spec.schedule, { jobName: spec.name, timezone: spec.timezone, dst: spec.dst });
  return s.kind === "manual" ? null : s;
}
