import { and, asc, count, desc, eq, inArray, sql } from "drizzle-orm";
import type { Execution } from "../../shared";
import type { StateDb } from "./db";
import { executionFromRow } from "./rows";
import { executions, jobs } from "./schema";
import { statements } from "./statements";

/** Sortable execution columns (Dkron's indexes; `id` maps to started_at). */
const sortColumns = {
  started_at: executions.startedAt,
  finished_at: executions.finishedAt,
  attempt: executions.attempt,
  scheduled_at: executions.scheduledAt,
} as const;

/** Whether `sort` names a sortable execution field (an own key: `constructor` is no column). */
export function isExecutionSort(sort: string): sort is keyof typeof sortColumns | "id" {
  return sort === "id" || Object.hasOwn(sortColumns, sort);
}

/** Executions of one job (exact name match), sorted; ties broken by id for a stable order. */
export function listExecutions(
  s: StateDb,
  job: string,
  sort: string = "started_at",
  order: "ASC" | "DESC" = "DESC",
): Execution[] {
  const col = isExecutionSort(sort) && sort !== "id" ? sortColumns[sort] : executions.startedAt;
  const dir = order === "DESC" ? desc : asc;
  return s.db
    .select()
    .from(executions)
    .where(eq(executions.jobName, job))
    .orderBy(dir(col), dir(executions.id))
    .all()
    .map(executionFromRow);
}

/**
 * One page of a job's executions in the order of listExecutions, and how many it has: LIMIT/OFFSET
 * in SQL over the (job, started_at) index, so a long history is not read to show 25 rows.
 */
export function pageExecutions(
  s: StateDb,
  job: string,
  sort: string,
  order: "ASC" | "DESC",
  offset: number,
  limit: number | undefined,
): { total: number; items: Execution[] } {
  const col =
    sortColumns[(sort === "id" ? "started_at" : sort) as keyof typeof sortColumns] ?? executions.startedAt;
  const dir = order === "DESC" ? desc : asc;
  const total = s.db.select({ n: count() }).from(executions).where(eq(executions.jobName, job)).get()?.n ?? 0;
  const n = Math.max(0, Math.min(limit ?? total, total) - offset);
  if (n === 0) return { total, items: [] };
  const items = s.db
    .select()
    .from(executions)
    .where(eq(executions.jobName, job))
    .orderBy(dir(col), dir(executions.id))
    .limit(n)
    .offset(offset)
    .all()
    .map(executionFromRow);
  return { total, items };
}

/** One execution of a job, or undefined. */
export function getExecution(s: StateDb, job: string, id: string): Execution | undefined {
  const row = s.db
    .select()
    .from(executions)
    .where(and(eq(executions.jobName, job), eq(executions.id, id)))
    .get();
  return row ? executionFromRow(row) : undefined;
}

/** Every execution still marked running (all jobs). */
export function runningExecutions(s: StateDb): Execution[] {
  return s.db.select().from(executions).where(eq(executions.state, "running")).all().map(executionFromRow);
}

/**
 * Failed or lost executions whose job's `retries` allow another attempt (all jobs), oldest first:
 * where a retry may still be owed. Jobs without retries cost nothing here.
 */
export function failedExecutions(s: StateDb): Execution[] {
  return s.db
    .select({ e: executions })
    .from(executions)
    .innerJoin(jobs, eq(jobs.name, executions.jobName))
    .where(
      and(
        inArray(executions.state, ["failed", "lost"]),
        sql`${executions.attempt} <= coalesce(json_extract(${jobs.spec}, '$.retries'), 0)`,
      ),
    )
    .orderBy(asc(executions.startedAt), asc(executions.id))
    .all()
    .map((r) => executionFromRow(r.e));
}

/** Executions of one run group. */
export function groupExecutions(s: StateDb, job: string, group: number): Execution[] {
  return statements(s).executionsOfGroup.all({ job, group }).map(executionFromRow);
}
