import type Database from "better-sqlite3";
import type { StateDb } from "./db";
import { type JobRow, type StoredJob, storedJobFromRow } from "./rows";

/** A metadata or tag entry a list filters by: key, value. */
export type Entry = readonly [key: string, value: string];

/** The jobs-list filter (GET /v1/jobs), as SQL over indexed columns. */
export interface JobFilter {
  /** Only jobs whose name starts with this (a prefix-limited token's); "" for all. */
  prefix: string;
  /** Substring of the name or the display name (case-sensitive, as Dkron). */
  q?: string | undefined;
  /** The stored status ("" for untriggered). */
  status?: string | undefined;
  disabled?: boolean | undefined;
  /** Every entry (key, value) must be in the job's metadata; the first drives (see fewestFirst). */
  metadata?: readonly Entry[] | undefined;
  /** The job's owner, exactly. */
  owner?: string | undefined;
  /** Every entry must be one of the job's target tags (the value without its `:count`). */
  tags?: readonly Entry[] | undefined;
  /** Every name `q` matches, when they are few (see qMatches): tested by name instead of row by row. */
  qNames?: string[] | undefined;
}

/** Sortable fields and their columns; `next` sorts by next_fire (exact for jobs not yet due). */
const SORT_COLUMNS = {
  name: "name",
  displayname: "displayname",
  schedule: "schedule",
  success_count: "success_count",
  error_count: "error_count",
  skipped_count: "skipped_count",
  last_success: "last_success",
  last_error: "last_error",
  next: "next_fire",
} as const;

/** A sortable job field of GET /v1/jobs. */
export type JobSort = keyof typeof SORT_COLUMNS;

/** The sortable job fields, in the order error messages list them. */
export const JOB_SORTS = Object.keys(SORT_COLUMNS) as JobSort[];

/** Whether `sort` names a sortable job field. */
export function isJobSort(sort: string): sort is JobSort {
  return Object.hasOwn(SORT_COLUMNS, sort);
}

/** Which jobs by next_fire: all, those due at or before `now` (overdue), or the others. */
export type DueSplit = { overdue: boolean; now: number } | undefined;

/** A page of jobs in SQL order. */
export interface JobPageQuery {
  sort: JobSort;
  order: "ASC" | "DESC";
  offset: number;
  limit: number;
  due?: DueSplit;
}

interface Where {
  sql: string;
  params: Record<string, unknown>;
}

function where(f: JobFilter, due?: DueSplit, probeAll = false): Where {
  const parts: string[] = [];
  const params: Record<string, unknown> = {};
  if (f.prefix) {
    // A range on the primary key, then the exact test (no LIKE: it folds case and needs escapes).
    parts.push("name >= @prefix AND name < @prefixEnd AND substr(name, 1, length(@prefix)) = @prefix");
    params.prefix = f.prefix;
    params.prefixEnd = `${f.prefix}\u{10FFFF}`;
  }
  if (f.qNames) {
    parts.push("name IN (SELECT value FROM json_each(@qNames))");
    params.qNames = JSON.stringify(f.qNames);
  } else if (f.q !== undefined) {
    // Tested row by row in the sort order, which stops at the page (a list of them all would cost more).
    parts.push("(instr(name, @q) > 0 OR instr(displayname, @q) > 0)");
    params.q = f.q;
  }
  if (f.status !== undefined) {
    parts.push("status = @status");
    params.status = f.status;
  }
  if (f.disabled !== undefined) {
    parts.push("disabled = @disabled");
    params.disabled = f.disabled ? 1 : 0;
  }
  // The first metadata (else tag) entry drives: its jobs by the key/value index, as an IN list (the
  // caller puts the entry with the fewest jobs first). The other entries, and all of them when the
  // due range drives (`probeAll`), are probed per job on the covering key/value index, rather than
  // each building a list of all the jobs with that entry.
  const metadata = f.metadata ?? [];
  for (const [i, [k, v]] of metadata.entries()) {
    parts.push(
      i === 0 && !probeAll
        ? `name IN (SELECT job FROM job_metadata WHERE key = @mk${i} AND value = @mv${i})`
        : `EXISTS (SELECT 1 FROM job_metadata m INDEXED BY job_metadata_kv_idx WHERE m.key = @mk${i} AND m.value = @mv${i} AND m.job = jobs.name)`,
    );
    params[`mk${i}`] = k;
    params[`mv${i}`] = v;
  }
  if (f.owner !== undefined) {
    parts.push("owner = @owner");
    params.owner = f.owner;
  }
  for (const [i, [k, v]] of (f.tags ?? []).entries()) {
    parts.push(
      i === 0 && !probeAll && metadata.length === 0
        ? `name IN (SELECT job FROM job_tags WHERE key = @tk${i} AND value = @tv${i})`
        : `EXISTS (SELECT 1 FROM job_tags t INDEXED BY job_tags_kv_idx WHERE t.key = @tk${i} AND t.value = @tv${i} AND t.job = jobs.name)`,
    );
    params[`tk${i}`] = k;
    params[`tv${i}`] = v;
  }
  if (due) {
    // Not due: as an expression no index serves, so it is tested per row and never turns the query
    // into an OR over two index ranges.
    parts.push(due.overdue ? "next_fire <= @now" : "ifnull(next_fire, @now + 1) > @now");
    params.now = due.now;
  }
  return { sql: parts.length ? `WHERE ${parts.join(" AND ")}` : "", params };
}

const cache = new WeakMap<StateDb, Map<string, Database.Statement>>();

/** A prepared statement per distinct SQL text (the filters a client combines are few). */
function prepared(s: StateDb, sql: string): Database.Statement {
  let m = cache.get(s);
  if (!m) {
    m = new Map();
    cache.set(s, m);
  }
  let st = m.get(sql);
  if (!st) {
    st = s.sqlite.prepare(sql);
    if (m.size > 256) m.clear();
    m.set(sql, st);
  }
  return st;
}

/**
 * The names `q` matches (in the name or the display name) if there are at most `cap`, else undefined:
 * one scan of the (displayname, name) index, which no b-tree can narrow for a substring.
 */
export function qMatches(s: StateDb, q: string, cap: number): string[] | undefined {
  const names = prepared(
    s,
    "SELECT name FROM jobs INDEXED BY jobs_displayname_idx WHERE instr(name, @q) > 0 OR instr(displayname, @q) > 0 LIMIT @limit",
  )
    .pluck()
    .all({ q, limit: cap + 1 }) as string[];
  return names.length <= cap ? names : undefined;
}

/**
 * The entry with the fewest jobs first (counted on the key/value index, each count stopping once it
 * passes the smallest so far): the first one drives the query (see where), so the order a client
 * wrote the entries in does not decide its cost.
 */
export function fewestFirst(
  s: StateDb,
  table: "job_metadata" | "job_tags",
  entries: Record<string, string> | undefined,
): Entry[] | undefined {
  if (!entries) return undefined;
  const list = Object.entries(entries);
  if (list.length < 2) return list;
  let best = 0;
  let fewest = Number.POSITIVE_INFINITY;
  for (const [i, [key, value]] of list.entries()) {
    const n = countUpTo(s, `${table} WHERE key = @key AND value = @value`, { key, value }, fewest);
    if (n < fewest) {
      fewest = n;
      best = i;
    }
  }
  return [list[best]!, ...list.filter((_, i) => i !== best)];
}

/** How many jobs pass the filter (X-Total-Count). */
export function countJobs(s: StateDb, f: JobFilter, due?: DueSplit): number {
  const w = where(f, due);
  return (prepared(s, `SELECT count(*) AS n FROM jobs ${w.sql}`).get(w.params) as { n: number }).n;
}

/** One page of the jobs passing the filter, sorted by the field then the name (same direction). */
export function pageJobs(s: StateDb, f: JobFilter, q: JobPageQuery): StoredJob[] {
  if (q.limit <= 0) return [];
  const w = where(f, q.due);
  const col = SORT_COLUMNS[q.sort];
  const dir = q.order === "DESC" ? "DESC" : "ASC";
  const order = col === "name" ? `name ${dir}` : `${col} ${dir}, name ${dir}`;
  // Sorted by next and driven by an entry's list of jobs: the page's names are found on the covering
  // (name, next_fire) index, so only the page's rows are read, not every matching job's. INDEXED BY:
  // the planner would read each row through the primary key instead.
  const sql =
    q.sort === "next" && coveredByNameNext(f)
      ? `SELECT * FROM jobs WHERE name IN (SELECT name FROM jobs INDEXED BY jobs_name_next_fire_idx ${w.sql} ORDER BY ${order} LIMIT @limit OFFSET @offset) ORDER BY ${order}`
      : `SELECT * FROM jobs ${w.sql} ORDER BY ${order} LIMIT @limit OFFSET @offset`;
  const rows = prepared(s, sql).all({ ...w.params, limit: q.limit, offset: q.offset }) as RawJobRow[];
  return withDependents(s, rows.map(fromRaw));
}

/**
 * Whether the filter's jobs are found by a metadata or tag entry's list (see where) and every other
 * test is on the name: then the (name, next_fire) index answers it without reading rows. A status,
 * disabled or owner test reads each row there, which its own (column, name) index avoids.
 */
function coveredByNameNext(f: JobFilter): boolean {
  const entries = (f.metadata?.length ?? 0) + (f.tags?.length ?? 0);
  const rowTests =
    f.status !== undefined ||
    f.disabled !== undefined ||
    f.owner !== undefined ||
    (f.q !== undefined && !f.qNames);
  return entries > 0 && !rowTests;
}

/**
 * Jobs passing the filter whose first slot after their cursor is at or before `now`: due, not yet
 * started. `matching` (the filter's count) picks the cheaper drive: the due jobs of the
 * next_fire index, probed against the filter, unless there are more of them than matching jobs.
 */
export function overdueJobs(s: StateDb, f: JobFilter, now: number, matching: number): StoredJob[] {
  const byDue =
    countUpTo(s, "jobs INDEXED BY jobs_next_fire_idx WHERE next_fire <= @now", { now }, matching) < matching;
  const w = where(f, { overdue: true, now }, byDue);
  const from = byDue ? "jobs INDEXED BY jobs_next_fire_idx" : "jobs";
  const rows = prepared(s, `SELECT * FROM ${from} ${w.sql}`).all(w.params) as RawJobRow[];
  return withDependents(s, rows.map(fromRaw));
}

/** How many rows `FROM <from>` holds, counting no further than `cap` (Infinity: all of them). */
function countUpTo(s: StateDb, from: string, params: Record<string, unknown>, cap: number): number {
  const sql = `SELECT count(*) AS n FROM (SELECT 1 FROM ${from} LIMIT @cap)`;
  // LIMIT -1 is no limit in SQLite.
  return (prepared(s, sql).get({ ...params, cap: Number.isFinite(cap) ? cap : -1 }) as { n: number }).n;
}

/** StoredJobs of rows, with their children looked up in one query. */
function withDependents(s: StateDb, rows: JobRow[]): StoredJob[] {
  if (rows.length === 0) return [];
  const children = new Map<string, string[]>();
  const kids = prepared(
    s,
    "SELECT name, parent_job AS parent FROM jobs WHERE parent_job IN (SELECT value FROM json_each(@names)) ORDER BY name",
  ).all({ names: JSON.stringify(rows.map((r) => r.name)) }) as { name: string; parent: string }[];
  for (const k of kids) {
    const list = children.get(k.parent) ?? [];
    list.push(k.name);
    children.set(k.parent, list);
  }
  return rows.map((r) => storedJobFromRow(r, children.get(r.name) ?? []));
}

/** A jobs row as better-sqlite3 returns `SELECT *` (column names, not drizzle's keys). */
interface RawJobRow {
  name: string;
  spec: string;
  parent_job: string;
  success_count: number;
  error_count: number;
  last_success: number | null;
  last_error: number | null;
  skipped_count: number;
  last_skipped: number | null;
  status: string;
  anchor: number;
  cursor: number;
  created_at: number;
  updated_at: number;
  displayname: string;
  owner: string;
  schedule: string;
  disabled: number;
  next_fire: number | null;
  wake_at: number | null;
  index_version: number;
}

function fromRaw(r: RawJobRow): JobRow {
  return {
    name: r.name,
    spec: r.spec,
    parentJob: r.parent_job,
    successCount: r.success_count,
    errorCount: r.error_count,
    lastSuccess: r.last_success,
    lastError: r.last_error,
    skippedCount: r.skipped_count,
    lastSkipped: r.last_skipped,
    status: r.status,
    anchor: r.anchor,
    cursor: r.cursor,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    displayname: r.displayname,
    owner: r.owner,
    schedule: r.schedule,
    disabled: r.disabled === 1,
    nextFire: r.next_fire,
    wakeAt: r.wake_at,
    indexVersion: r.index_version,
  };
}
