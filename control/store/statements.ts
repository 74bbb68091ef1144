import { and, asc, count, eq, gt, inArray, lte, ne, type SQL, sql } from "drizzle-orm";
import { executions, jobMetadata, jobs, jobTags, meta, owedDependentRuns } from "./schema";
import type { StateDb } from "./state-db";

/** The meta key of the index of the last applied command. */
export const LAST_APPLIED = "last_applied";

const ph = (name: string) => sql.placeholder(name);

/** An execution's start lateness: the runner's start after its slot (ms). */
const lateness = sql<number>`${executions.startedAt} - ${executions.scheduledAt}`;

/** Lateness samples of a job: first attempts of its scheduled runs whose runner reported its start. */
const latenessSamples = and(
  eq(executions.jobName, ph("job")),
  inArray(executions.trigger, ["schedule", "catchup"]),
  eq(executions.attempt, 1),
  eq(executions.startReported, sql`1`),
);
/** A placeholder as an `update … set` value (set accepts SQL, not a bare placeholder). */
const setTo = (name: string): SQL => sql`${sql.placeholder(name)}`;

/**
 * Builds the queries run on every apply and every job read, each compiled to SQL and prepared by
 * SQLite once: building the SQL and `prepare` cost more than running these one-row statements.
 * Placeholders bypass drizzle's column encoders in `set`, so boolean columns take 0/1 there.
 */
function prepareAll(s: StateDb) {
  const { db } = s;
  return {
    /** `{ value }` of last_applied, or undefined. */
    lastApplied: db.select({ value: meta.value }).from(meta).where(eq(meta.key, LAST_APPLIED)).prepare(),
    /** Sets last_applied to `index`. */
    setLastApplied: db
      .insert(meta)
      .values({ key: LAST_APPLIED, value: ph("index") })
      .onConflictDoUpdate({ target: meta.key, set: { value: setTo("index") } })
      .prepare(),

    /** The jobs row called `name`. */
    jobByName: db
      .select()
      .from(jobs)
      .where(eq(jobs.name, ph("name")))
      .prepare(),
    /** `{ parent }` of the job called `name`. */
    jobParent: db
      .select({ parent: jobs.parentJob })
      .from(jobs)
      .where(eq(jobs.name, ph("name")))
      .prepare(),
    /** Names of the children of `name`, sorted. */
    jobDependents: db
      .select({ name: jobs.name })
      .from(jobs)
      .where(eq(jobs.parentJob, ph("name")))
      .orderBy(asc(jobs.name))
      .prepare(),
    /**
     * A new job stamped `at` with its index columns (job-index.ts; `disabled` as 0/1) in the same
     * statement: writing them after the insert updated seven of the table's indexes a second time.
     */
    jobInsertIndexed: db
      .insert(jobs)
      .values({
        name: ph("name"),
        spec: ph("spec"),
        parentJob: ph("parentJob"),
        anchor: ph("at"),
        cursor: ph("at"),
        createdAt: ph("at"),
        updatedAt: ph("at"),
        displayname: ph("displayname"),
        owner: ph("owner"),
        schedule: ph("schedule"),
        disabled: ph("disabled"),
        nextFire: ph("nextFire"),
        wakeAt: ph("wakeAt"),
        indexVersion: ph("version"),
      })
      .prepare(),
    /** A job's new spec with the anchor and cursor the caller computed. */
    jobUpdate: db
      .update(jobs)
      .set({
        spec: setTo("spec"),
        parentJob: setTo("parentJob"),
        updatedAt: setTo("at"),
        anchor: setTo("anchor"),
        cursor: setTo("cursor"),
      })
      .where(eq(jobs.name, ph("name")))
      .prepare(),
    /** A job's index columns (job-index.ts); `disabled` as 0/1. */
    jobSetIndex: db
      .update(jobs)
      .set({
        displayname: setTo("displayname"),
        owner: setTo("owner"),
        schedule: setTo("schedule"),
        disabled: setTo("disabled"),
        nextFire: setTo("nextFire"),
        wakeAt: setTo("wakeAt"),
        indexVersion: setTo("version"),
      })
      .where(eq(jobs.name, ph("name")))
      .prepare(),
    /** A job's due times (job-index.ts). */
    jobSetTimes: db
      .update(jobs)
      .set({ nextFire: setTo("nextFire"), wakeAt: setTo("wakeAt") })
      .where(eq(jobs.name, ph("name")))
      .prepare(),
    /** Removes a job's tag rows. */
    jobTagsDelete: db
      .delete(jobTags)
      .where(eq(jobTags.job, ph("job")))
      .prepare(),
    /** One target tag of a job (its match value). */
    jobTagInsert: db
      .insert(jobTags)
      .values({ job: ph("job"), key: ph("key"), value: ph("value") })
      .prepare(),
    /** Removes a job's metadata rows. */
    jobMetadataDelete: db
      .delete(jobMetadata)
      .where(eq(jobMetadata.job, ph("job")))
      .prepare(),
    /** One metadata entry of a job. */
    jobMetadataInsert: db
      .insert(jobMetadata)
      .values({ job: ph("job"), key: ph("key"), value: ph("value") })
      .prepare(),
    /** `{ name, at }` of the jobs whose wake_at is in (after, until]. */
    jobsWaking: db
      .select({ name: jobs.name, at: jobs.wakeAt })
      .from(jobs)
      .where(and(gt(jobs.wakeAt, ph("after")), lte(jobs.wakeAt, ph("until"))))
      .prepare(),
    /** Moves a job's cursor. */
    jobSetCursor: db
      .update(jobs)
      .set({ cursor: setTo("cursor") })
      .where(eq(jobs.name, ph("name")))
      .prepare(),
    /** Sets a job's status. */
    jobSetStatus: db
      .update(jobs)
      .set({ status: setTo("status") })
      .where(eq(jobs.name, ph("name")))
      .prepare(),
    /** Counts one success finished at `at`. */
    jobCountSuccess: db
      .update(jobs)
      .set({
        successCount: sql`${jobs.successCount} + 1`,
        lastSuccess: sql`max(coalesce(${jobs.lastSuccess}, 0), ${ph("at")})`,
      })
      .where(eq(jobs.name, ph("name")))
      .prepare(),
    /** Counts one error at `at`. */
    jobCountError: db
      .update(jobs)
      .set({
        errorCount: sql`${jobs.errorCount} + 1`,
        lastError: sql`max(coalesce(${jobs.lastError}, 0), ${ph("at")})`,
      })
      .where(eq(jobs.name, ph("name")))
      .prepare(),

    /** Counts one scheduled slot passed over (concurrency forbid); `at` is the slot. */
    jobCountSkipped: db
      .update(jobs)
      .set({
        skippedCount: sql`${jobs.skippedCount} + 1`,
        lastSkipped: sql`max(coalesce(${jobs.lastSkipped}, 0), ${ph("at")})`,
      })
      .where(eq(jobs.name, ph("name")))
      .prepare(),

    /** The executions row with `id`. */
    executionById: db
      .select()
      .from(executions)
      .where(eq(executions.id, ph("id")))
      .prepare(),
    /** `{ id }` of one running execution of `job`. */
    executionRunning: db
      .select({ id: executions.id })
      .from(executions)
      .where(and(eq(executions.jobName, ph("job")), eq(executions.state, "running")))
      .prepare(),
    /** The executions of one run group (`job`, `group`). */
    executionsOfGroup: db
      .select()
      .from(executions)
      .where(and(eq(executions.jobName, ph("job")), eq(executions.group, ph("group"))))
      .prepare(),
    /** `{ n }`: how many executions `job` has, in any state. */
    executionCount: db
      .select({ n: count() })
      .from(executions)
      .where(eq(executions.jobName, ph("job")))
      .prepare(),
    /** `{ id }` of the `limit` oldest finished executions of `job` (started_at, then id). */
    executionsOldestFinished: db
      .select({ id: executions.id })
      .from(executions)
      .where(and(eq(executions.jobName, ph("job")), ne(executions.state, "running")))
      .orderBy(asc(executions.startedAt), asc(executions.id))
      .limit(ph("limit"))
      .prepare(),
    /** A new execution; nothing if its id is already recorded. */
    executionInsert: db
      .insert(executions)
      .values({
        id: ph("id"),
        jobName: ph("jobName"),
        group: ph("group"),
        attempt: ph("attempt"),
        nodeName: ph("nodeName"),
        trigger: ph("trigger"),
        scheduledAt: ph("scheduledAt"),
        startedAt: ph("startedAt"),
        dispatchedAt: ph("dispatchedAt"),
        startReported: ph("startReported"),
        finishedAt: ph("finishedAt"),
        state: ph("state"),
        success: ph("success"),
        output: ph("output"),
        exitCode: ph("exitCode"),
        payload: ph("payload"),
      })
      .onConflictDoNothing()
      .prepare(),
    /** Records an execution's result (`success` as 0/1). */
    executionFinish: db
      .update(executions)
      .set({
        state: setTo("state"),
        success: setTo("success"),
        output: setTo("output"),
        exitCode: setTo("exitCode"),
        finishedAt: setTo("finishedAt"),
      })
      .where(eq(executions.id, ph("id")))
      .prepare(),
    /** Records an execution's result and its start time as the runner saw it (`success` as 0/1). */
    executionFinishStarted: db
      .update(executions)
      .set({
        state: setTo("state"),
        success: setTo("success"),
        output: setTo("output"),
        exitCode: setTo("exitCode"),
        finishedAt: setTo("finishedAt"),
        startedAt: setTo("startedAt"),
        startReported: sql`1`,
      })
      .where(eq(executions.id, ph("id")))
      .prepare(),
    /** Records when the runner started a running execution, unless a start is already recorded. */
    executionStarted: db
      .update(executions)
      .set({ startedAt: setTo("startedAt"), startReported: sql`1` })
      .where(
        and(
          eq(executions.id, ph("id")),
          eq(executions.state, "running"),
          eq(executions.startReported, sql`0`),
        ),
      )
      .prepare(),
    /** Deletes the execution with `id`. */
    executionDelete: db
      .delete(executions)
      .where(eq(executions.id, ph("id")))
      .prepare(),

    /** `{ n, max }`: how many lateness samples `job` has and the largest. */
    latenessSummary: db
      .select({ n: count(), max: sql<number | null>`max(${lateness})` })
      .from(executions)
      .where(latenessSamples)
      .prepare(),
    /** `{ v }`: the lateness sample of `job` after `offset` smaller ones (ascending). */
    latenessAtOffset: db
      .select({ v: lateness })
      .from(executions)
      .where(latenessSamples)
      .orderBy(asc(lateness))
      .limit(1)
      .offset(ph("offset"))
      .prepare(),
    /**
     * `{ count, first, last }` of the run groups of `job` scheduled after `since` whose start is
     * known: each group's earliest start (a group may run on several targets).
     */
    scheduledStartSpan: (() => {
      const groups = db
        .select({ start: sql<number>`min(${executions.startedAt})`.as("start") })
        .from(executions)
        .where(and(latenessSamples, gt(executions.scheduledAt, ph("since"))))
        .groupBy(executions.group)
        .as("groups");
      return db
        .select({
          count: count(),
          first: sql<number | null>`min(${groups.start})`,
          last: sql<number | null>`max(${groups.start})`,
        })
        .from(groups)
        .prepare();
    })(),

    /** Records a dependent run owed to `jobName` by the parent success at log index `mark`. */
    owedInsert: db
      .insert(owedDependentRuns)
      .values({
        jobName: ph("jobName"),
        mark: ph("mark"),
        parentJob: ph("parentJob"),
        parentGroup: ph("parentGroup"),
        owedAt: ph("owedAt"),
      })
      .onConflictDoNothing()
      .prepare(),
    /** The run owed to `job` under `mark`, if still owed. */
    owedByMark: db
      .select()
      .from(owedDependentRuns)
      .where(and(eq(owedDependentRuns.jobName, ph("job")), eq(owedDependentRuns.mark, ph("mark"))))
      .prepare(),
    /** The oldest run owed to `job`, if any. */
    owedOldest: db
      .select()
      .from(owedDependentRuns)
      .where(eq(owedDependentRuns.jobName, ph("job")))
      .orderBy(asc(owedDependentRuns.mark))
      .limit(1)
      .prepare(),
    /** Settles the run owed to `job` under `mark`. */
    owedDelete: db
      .delete(owedDependentRuns)
      .where(and(eq(owedDependentRuns.jobName, ph("job")), eq(owedDependentRuns.mark, ph("mark"))))
      .prepare(),
  };
}

/** The prepared per-call queries of one state database. */
export type Statements = ReturnType<typeof prepareAll>;

const cache = new WeakMap<StateDb, Statements>();

/**
 * The prepared queries of `s`, built on first use and kept as long as `s` is: per database, so
 * every StateDb a test opens gets its own, and a closed one takes its statements with it.
 */
export function statements(s: StateDb): Statements {
  let st = cache.get(s);
  if (!st) {
    st = prepareAll(s);
    cache.set(s, st);
  }
  return st;
}
