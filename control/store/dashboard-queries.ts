import type { Execution } from "../../shared";
import type { StateDb } from "./db";
import { type ExecutionRow, executionFromRow } from "./rows";

// The dashboard's reads beyond the Dkron API, each on an index: counts by status, the last day's
// executions, one job's recent runs, and the schedule columns of the jobs that fire.

/** SQL limiting `name` (or `col`) to a token's prefix, with its params; "" for every job. */
function prefixed(prefix: string, col = "name"): { sql: string; params: Record<string, string> } {
  if (!prefix) return { sql: "", params: {} };
  return {
    sql: ` AND ${col} >= @prefix AND ${col} < @prefixEnd AND substr(${col}, 1, length(@prefix)) = @prefix`,
    params: { prefix, prefixEnd: `${prefix}\u{10FFFF}` },
  };
}

/** Jobs counted by stored status and disabled flag (over the status index). */
export function jobStatusCounts(
  s: StateDb,
  prefix: string,
): { status: string; disabled: number; n: number }[] {
  const p = prefixed(prefix);
  return s.sqlite
    .prepare(`SELECT status, disabled, count(*) AS n FROM jobs WHERE 1 ${p.sql} GROUP BY status, disabled`)
    .all(p.params) as { status: string; disabled: number; n: number }[];
}

/** Executions started since `since`, counted per hour (epoch hour number) and state. */
export function executionsPerHour(
  s: StateDb,
  since: number,
  prefix: string,
): { hour: number; state: string; n: number }[] {
  const p = prefixed(prefix, "job_name");
  return s.sqlite
    .prepare(
      `SELECT started_at / 3600000 AS hour, state, count(*) AS n FROM executions
       WHERE started_at >= @since ${p.sql} GROUP BY hour, state`,
    )
    .all({ since, ...p.params }) as { hour: number; state: string; n: number }[];
}

/** Failed and lost executions started since `since`: how many, and the newest `limit`. */
export function recentFailures(
  s: StateDb,
  since: number,
  limit: number,
  prefix: string,
): { total: number; items: Execution[] } {
  const p = prefixed(prefix, "job_name");
  const where = `WHERE started_at >= @since AND state IN ('failed', 'lost') ${p.sql}`;
  const params = { since, ...p.params };
  const total = (
    s.sqlite.prepare(`SELECT count(*) AS n FROM executions ${where}`).get(params) as { n: number }
  ).n;
  const rows = s.sqlite
    .prepare(`SELECT * FROM executions ${where} ORDER BY started_at DESC LIMIT @limit`)
    .all({ ...params, limit }) as RawExecution[];
  return { total, items: rows.map((r) => executionFromRow(fromRaw(r))) };
}

/** A job's newest `n` runs: state, start and finish (over the (job, started_at) index). */
export function recentRuns(
  s: StateDb,
  job: string,
  n: number,
): { state: string; started_at: number; finished_at: number | null }[] {
  return s.sqlite
    .prepare(
      "SELECT state, started_at, finished_at FROM executions WHERE job_name = ? ORDER BY started_at DESC LIMIT ?",
    )
    .all(job, n) as { state: string; started_at: number; finished_at: number | null }[];
}

/** What the fire heatmap needs of a job that fires: its schedule fields, anchor and next fire. */
export interface FiringJobRow {
  name: string;
  schedule: string;
  timezone: string | null;
  dst: string | null;
  anchor: number;
  next_fire: number;
}

/**
 * Enabled jobs with a next fire before `until`, `limit` at a time after name `after` (keyset pages,
 * so a caller can yield between them): the heatmap's input without parsing whole specs.
 */
export function firingJobs(
  s: StateDb,
  until: number,
  after: string,
  limit: number,
  prefix: string,
): FiringJobRow[] {
  const p = prefixed(prefix);
  return s.sqlite
    .prepare(
      `SELECT name, schedule, json_extract(spec, '$.timezone') AS timezone, json_extract(spec, '$.dst') AS dst,
              anchor, next_fire FROM jobs
       WHERE name > @after AND disabled = 0 AND next_fire IS NOT NULL AND next_fire < @until ${p.sql}
       ORDER BY name LIMIT @limit`,
    )
    .all({ after, until, limit, ...p.params }) as FiringJobRow[];
}

interface RawExecution {
  id: string;
  job_name: string;
  group_id: number;
  attempt: number;
  node_name: string;
  trigger: string;
  scheduled_at: number;
  started_at: number;
  dispatched_at: number;
  start_reported: number;
  finished_at: number | null;
  state: string;
  success: number;
  output: string;
  exit_code: number | null;
  payload: string | null;
}

function fromRaw(r: RawExecution): ExecutionRow {
  return {
    id: r.id,
    jobName: r.job_name,
    group: r.group_id,
    attempt: r.attempt,
    nodeName: r.node_name,
    trigger: r.trigger,
    scheduledAt: r.scheduled_at,
    startedAt: r.started_at,
    dispatchedAt: r.dispatched_at,
    startReported: r.start_reported === 1,
    finishedAt: r.finished_at,
    state: r.state,
    success: r.success === 1,
    output: r.output,
    exitCode: r.exit_code,
    payload: r.payload,
  };
}
