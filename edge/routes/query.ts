import type { Context } from "hono";
import { z } from "zod";
import type { ControlInput } from "../../shared";
import { AppError, isAppError, parseInstant, parseOrThrow, readPreviewCount } from "../../shared";

// Parsing of the /v1 query strings: Dkron's parameter names in, the control-api contract's params out.
// Bad values are a 400 naming the parameter the user sent (Dkron answers most of them with a 500).

/** Query parameters of the request with repeats kept (Hono's c.req.query keeps one value per key). */
export function searchParams(c: Context): URLSearchParams {
  return new URL(c.req.url).searchParams;
}

/** Values that mean "not given" when empty: Dkron treats `q=` or `status=` as no filter. */
const EMPTY_MEANS_ABSENT = new Set(["q", "status", "_sort", "_order"]);

/** First value per key (gin's c.Query semantics), empty values dropped where they mean "absent". */
function firstValues(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  // The first value decides even when it is an empty one dropped: `status=&status=failed` is no filter.
  const seen = new Set<string>();
  for (const [k, v] of params) {
    if (seen.has(k)) continue;
    seen.add(k);
    if (v === "" && EMPTY_MEANS_ABSENT.has(k)) continue;
    out[k] = v;
  }
  return out;
}

const count = z
  .string()
  .regex(/^\d+$/, "must be a non-negative integer")
  .transform(Number)
  .refine(Number.isSafeInteger, "is too large");

// Lenient like Dkron (anything but DESC ascends), but case-insensitive: `desc` descending is what a
// person typing it means, and no Dkron client sends lowercase expecting ascending.
const order = z.string().transform((v): "ASC" | "DESC" => (v.toUpperCase() === "DESC" ? "DESC" : "ASC"));

const flag = z
  .enum(["", "true", "1", "false", "0"], { error: 'must be "true" or "false" (or empty for true)' })
  .transform((v) => v === "" || v === "true" || v === "1");

const paging = {
  _sort: z.string().optional(),
  _order: order.optional(),
  _start: count.optional(),
  _end: count.optional(),
  stale: flag.optional(),
};

function endNotBeforeStart(
  q: { _start?: number | undefined; _end?: number | undefined },
  ctx: z.RefinementCtx,
) {
  if (q._start !== undefined && q._end !== undefined && q._end < q._start) {
    ctx.addIssue({ code: "custom", path: ["_end"], message: `must not be less than _start (${q._start})` });
  }
}

const JobListQuery = z
  .object({
    ...paging,
    q: z.string().optional(),
    status: z.string().optional(),
    disabled: z.enum(["true", "false"], { error: 'must be "true" or "false"' }).optional(),
    owner: z.string().optional(),
  })
  .superRefine(endNotBeforeStart);

const ExecutionListQuery = z
  .object({ ...paging, output_size_limit: count.optional() })
  .superRefine(endNotBeforeStart);

/** A count of runs to preview (`next`, `n`): 1..MAX_PREVIEW_RUNS. */
const runCount = z.string().transform((v, ctx) => {
  const r = readPreviewCount(v);
  if ("n" in r) return r.n;
  ctx.addIssue({ code: "custom", message: r.problem });
  return z.NEVER;
});

/** GET /v1/jobs/:job: `stale` lets a follower answer from its replica; `next` lists the next N runs. */
const JobGetQuery = z.object({ stale: flag.optional(), next: runCount.optional() });

const instant = z.string().transform((v, ctx) => {
  const ms = parseInstant(v);
  if (ms !== null) return ms;
  ctx.addIssue({
    code: "custom",
    message: `expected an RFC3339 time with an offset, such as 2026-10-25T00:00:00+02:00, got "${v}"`,
  });
  return z.NEVER;
});

const SchedulePreviewQuery = z.object({
  schedule: z.string({ error: "is required (the schedule to preview, e.g. schedule=0 30 9 * * *)" }),
  timezone: z.string().optional(),
  dst: z.string().optional(),
  n: runCount.optional(),
  from: instant.optional(),
  name: z.string().optional(),
});

/**
 * Collects `metadata[k]=v` pairs (gin's QueryMap: the first value of a repeated key wins). A bare
 * `metadata=` is refused rather than ignored: silently dropping a filter returns more jobs than asked.
 */
export function parseMetadataFilter(params: URLSearchParams): Record<string, string> | undefined {
  return parseMapFilter(params, "metadata");
}

/** Collects `<name>[k]=v` pairs of a query as parseMetadataFilter does (`tags[k]=v` too). */
export function parseMapFilter(params: URLSearchParams, name: string): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const [k, v] of params) {
    if (!k.startsWith(name)) continue;
    if (!(k.startsWith(`${name}[`) && k.endsWith("]"))) {
      if (k !== name) continue;
      throw new AppError("VALIDATION", `invalid query: ${name}: use ${name}[<key>]=<value>`, { field: k });
    }
    const key = k.slice(name.length + 1, -1);
    if (key === "") throw new AppError("VALIDATION", `invalid query: ${k}: the key is empty`, { field: k });
    // No object built by assignment holds a "__proto__" key (a job's metadata cannot either), so
    // the filter would vanish on the way to control and every job would match.
    if (key === "__proto__")
      throw new AppError("VALIDATION", `invalid query: ${k}: the key "__proto__" is not supported`, {
        field: k,
      });
    out ??= {};
    // An own key: `constructor in {}` is true, which dropped a metadata[constructor] filter.
    if (!Object.hasOwn(out, key)) out[key] = v;
  }
  return out;
}

/** Query of GET /v1/jobs → params of `jobs.list` (`_sort=id` means name, as in Dkron). */
export function parseJobListQuery(params: URLSearchParams): ControlInput<"jobs.list"> {
  const q = parseOrThrow(JobListQuery, firstValues(params), "invalid query");
  const metadata = parseMetadataFilter(params);
  const tags = parseMapFilter(params, "tags");
  return {
    ...(q._sort !== undefined && { sort: q._sort === "id" ? "name" : q._sort }),
    ...(q._order !== undefined && { order: q._order }),
    ...(q._start !== undefined && { start: q._start }),
    ...(q._end !== undefined && { end: q._end }),
    ...(q.q !== undefined && { q: q.q }),
    ...(q.status !== undefined && { status: q.status }),
    ...(q.disabled !== undefined && { disabled: q.disabled }),
    ...(metadata !== undefined && { metadata }),
    ...(tags !== undefined && { tags }),
    ...(q.owner !== undefined && { owner: q.owner }),
    ...(q.stale !== undefined && { stale: q.stale }),
  };
}

/** Query of GET /v1/jobs/:job/executions → params of `executions.list` (`_sort=id` means started_at). */
export function parseExecutionListQuery(
  params: URLSearchParams,
  job: string,
): ControlInput<"executions.list"> {
  const q = parseOrThrow(ExecutionListQuery, firstValues(params), "invalid query");
  return {
    job,
    ...(q._sort !== undefined && { sort: q._sort === "id" ? "started_at" : q._sort }),
    ...(q._order !== undefined && { order: q._order }),
    ...(q._start !== undefined && { start: q._start }),
    ...(q._end !== undefined && { end: q._end }),
    ...(q.output_size_limit !== undefined && { output_size_limit: q.output_size_limit }),
    ...(q.stale !== undefined && { stale: q.stale }),
  };
}

/** Query of GET /v1/jobs/:job → params of `jobs.get` (`next=N` asks for the next N runs). */
export function parseJobGetQuery(params: URLSearchParams, name: string): ControlInput<"jobs.get"> {
  const q = parseOrThrow(JobGetQuery, firstValues(params), "invalid query");
  return {
    name,
    ...(q.stale !== undefined && { stale: q.stale }),
    ...(q.next !== undefined && { next: q.next }),
  };
}

/** Query of GET /v1/schedule/preview → params of `schedule.preview`. */
export function parseSchedulePreviewQuery(params: URLSearchParams): ControlInput<"schedule.preview"> {
  const q = parseOrThrow(SchedulePreviewQuery, firstValues(params), "invalid query");
  return {
    schedule: q.schedule,
    ...(q.timezone !== undefined && { timezone: q.timezone }),
    ...(q.dst !== undefined && { dst: q.dst }),
    ...(q.n !== undefined && { n: q.n }),
    ...(q.from !== undefined && { from: q.from }),
    ...(q.name !== undefined && { name: q.name }),
  };
}

/** Presence flags such as `runoncreate`: present with any value (even "false") means true, as in Dkron. */
export function hasFlag(params: URLSearchParams, name: string): boolean {
  return params.has(name);
}

/** Contract param names → the query parameter a user sent, so control's errors name what the user typed. */
const QUERY_NAME_OF: Record<string, string> = {
  sort: "_sort",
  order: "_order",
  start: "_start",
  end: "_end",
};

/** Rewrites the `field` of a control VALIDATION error from a contract param name to its query name. */
export function renameQueryField(err: unknown): unknown {
  if (!isAppError(err) || err.code !== "VALIDATION") return err;
  const field = err.details?.field;
  const renamed = field === undefined ? undefined : QUERY_NAME_OF[field];
  if (renamed === undefined) return err;
  return new AppError(err.code, err.message, { ...err.details, field: renamed }, { cause: err });
}

/** An instant parameter: RFC 3339 or epoch milliseconds. */
const auditInstant = z.string().transform((v, ctx) => {
  const ms = /^\d+$/.test(v) ? Number(v) : parseInstant(v);
  if (ms === null || !Number.isSafeInteger(ms)) {
    ctx.addIssue({ code: "custom", message: `must be an RFC 3339 time or epoch milliseconds, got "${v}"` });
    return z.NEVER;
  }
  return ms;
});

const AuditQuery = z
  .object({
    job: z.string().optional(),
    target: z.string().optional(),
    token: z.string().optional(),
    action: z.string().optional(),
    since: auditInstant.optional(),
    until: auditInstant.optional(),
    _start: count.optional(),
    _end: count.optional(),
  })
  .superRefine(endNotBeforeStart);

/** GET /v1/audit query → audit.list params (`job` is the target of job actions). */
export function parseAuditQuery(params: URLSearchParams): ControlInput<"audit.list"> {
  const q = parseOrThrow(AuditQuery, firstValues(params), "query");
  if (q.job !== undefined && q.target !== undefined && q.job !== q.target)
    throw new AppError("VALIDATION", "query: job and target name different records; give one", {
      field: "job",
    });
  const target = q.job ?? q.target;
  return {
    ...(target !== undefined && { target }),
    ...(q.token !== undefined && { token: q.token }),
    ...(q.action !== undefined && { action: q.action }),
    ...(q.since !== undefined && { since: q.since }),
    ...(q.until !== undefined && { until: q.until }),
    ...(q._start !== undefined && { start: q._start }),
    ...(q._end !== undefined && { end: q._end }),
  };
}
