import { and, eq, ne } from "drizzle-orm";
import type { Execution, JobCounters, JobSpec } from "../../shared";
import { AppError, isAppError, keyringAfter } from "../../shared";
import type { StateDb } from "../store";
import {
  dependentsOf,
  executionFromRow,
  executions,
  getGossipKeyring,
  getJobRow,
  groupExecutions,
  indexJob,
  indexJobTimes,
  insertIndexedJob,
  type JobRow,
  jobs,
  type OwedRun,
  owedDependentRuns,
  peers,
  setGossipKeyring,
  statements,
} from "../store";
import { checkStamp, createToken, recordAudit, recordUses, revokeToken } from "./apply-auth";
import { createJoinToken, joinRunner, revokeJoinToken, revokeRunner } from "./apply-runners";
import {
  checkDelivery,
  deleteJobWebhooks,
  deleteWebhook,
  putWebhook,
  recordDelivery,
  rotateWebhook,
} from "./apply-webhooks";
import type {
  Command,
  CommandResult,
  CommandType,
  ExecutionFinishCommand,
  ExecutionStartCommand,
  ExecutionsFinishCommand,
  ExecutionsStartCommand,
  ExecutionsStartedCommand,
  FsmEvent,
  Rejection,
} from "./commands";
import { type GroupOutcome, groupOutcome, retryPending } from "./group-status";

export type { FsmEvent } from "./commands";

/**
 * The result of applying any command. A replayed entry (at or below last_applied) answers
 * `{ skipped: true }`: the consensus driver never applies one, so proposers never see it.
 */
export type ApplyResult =
  | { [T in CommandType]: CommandResult<T> }[CommandType]
  | { ok: true; value: { skipped: true }; events: [] };

/** The index of the last command applied to the state tables (0 for a new database). */
export function lastApplied(s: StateDb): number {
  return statements(s).lastApplied.get()?.value ?? 0;
}

/**
 * Applies one log entry in one transaction with `last_applied`, so a crash never applies an entry
 * twice or loses one. Deterministic: reads only the command and the state tables. An entry at or
 * below last_applied is skipped (replay after restart). A rejected command changes nothing but
 * last_applied.
 */
export function apply(s: StateDb, index: number, cmd: Command): ApplyResult {
  return applyTransaction(s)(index, cmd);
}

type ApplyTransaction = (index: number, cmd: Command) => ApplyResult;
const transactions = new WeakMap<StateDb, ApplyTransaction>();

/** better-sqlite3's transaction wrapper of `s`, built once: wrapping costs closures per call. */
function applyTransaction(s: StateDb): ApplyTransaction {
  let tx = transactions.get(s);
  if (!tx) {
    tx = s.sqlite.transaction((index: number, cmd: Command): ApplyResult => {
      if (index <= lastApplied(s)) return { ok: true, value: { skipped: true }, events: [] };
      let result: ApplyResult;
      try {
        checkStamp(s, cmd);
        result = applyCommand(s, index, cmd);
      } catch (e) {
        if (!isAppError(e)) throw e;
        result = { ok: false, error: { code: e.code, message: e.message, details: e.details } };
      }
      if (cmd.audit) recordAudit(s, index, cmd.at, cmd.audit, result);
      statements(s).setLastApplied.run({ index });
      return result;
    });
    transactions.set(s, tx);
  }
  return tx;
}

function applyCommand(s: StateDb, index: number, cmd: Command): ApplyResult {
  switch (cmd.type) {
    case "noop":
      return { ok: true, events: [] };
    case "job.put":
      return putJob(s, cmd);
    case "job.delete":
      return deleteJob(s, cmd.name);
    case "job.toggle":
      return toggleJob(s, cmd.name, cmd.at, cmd.disabled);
    case "execution.start":
      return startExecution(s, index, cmd);
    case "execution.finish":
      return finishExecution(s, index, cmd);
    case "executions.start":
      return startBatch(s, index, cmd);
    case "executions.finish":
      return finishBatch(s, index, cmd);
    case "executions.started":
      return recordStarts(s, cmd);
    case "executions.clear":
      return clearExecutions(s, cmd.job, cmd.at);
    case "peer.set":
      s.db
        .insert(peers)
        .values({ id: cmd.id, addr: cmd.addr })
        .onConflictDoUpdate({ target: peers.id, set: { addr: cmd.addr } })
        .run();
      return { ok: true, events: [{ kind: "peers.changed" }] };
    case "peer.remove":
      s.db.delete(peers).where(eq(peers.id, cmd.id)).run();
      return { ok: true, events: [{ kind: "peers.changed" }] };
    case "token.create":
      createToken(s, cmd);
      return { ok: true, events: [] };
    case "token.revoke":
      revokeToken(s, cmd.id);
      return { ok: true, events: [] };
    case "tokens.used":
      recordUses(s, cmd.uses);
      return { ok: true, events: [] };
    case "audit.record":
      return { ok: true, events: [] };
    case "webhook.put":
      putWebhook(s, cmd);
      return { ok: true, events: [] };
    case "webhook.delete":
      deleteWebhook(s, cmd.id);
      return { ok: true, events: [] };
    case "webhook.rotate":
      rotateWebhook(s, cmd.id, cmd.secret);
      return { ok: true, events: [] };
    case "runner-token.create":
      createJoinToken(s, cmd);
      return { ok: true, events: [] };
    case "runner-token.revoke":
      revokeJoinToken(s, cmd.id);
      return { ok: true, events: [] };
    case "runner.join":
      return { ok: true, value: joinRunner(s, cmd), events: [] };
    case "runner.revoke":
      revokeRunner(s, cmd.name);
      return { ok: true, events: [{ kind: "runner.revoked", name: cmd.name }] };
    case "gossip-keys.change": {
      const keys = keyringAfter(getGossipKeyring(s), cmd.seed, cmd.op, cmd.key);
      setGossipKeyring(s, keys, cmd.at);
      return { ok: true, value: { keys }, events: [{ kind: "keyring.changed" }] };
    }
  }
}

/** A job's row and parsed spec (apply never needs its dependents), or NOT_FOUND. */
function mustGetJob(s: StateDb, name: string): { row: JobRow; spec: JobSpec } {
  const row = getJobRow(s, name);
  if (!row) throw new AppError("NOT_FOUND", `job "${name}" not found`, { field: "job" });
  return { row, spec: JSON.parse(row.spec) as JobSpec };
}

function putJob(s: StateDb, cmd: Extract<Command, { type: "job.put" }>): CommandResult<"job.put"> {
  const st = statements(s);
  const spec = cmd.job;
  if (spec.parent_job) {
    if (spec.parent_job === spec.name) {
      throw new AppError("VALIDATION", "parent_job: the job can not have itself as parent", {
        field: "parent_job",
      });
    }
    // Walk up from the new parent: reaching this job again would make a cycle.
    const seen = new Set<string>([spec.name]);
    for (let p: string = spec.parent_job; p; ) {
      if (seen.has(p)) {
        throw new AppError("VALIDATION", `parent_job: "${spec.parent_job}" would make a dependency cycle`, {
          field: "parent_job",
        });
      }
      seen.add(p);
      const row = st.jobParent.get({ name: p });
      if (!row) {
        if (p === spec.parent_job) {
          throw new AppError("NOT_FOUND", "specified parent job not found", { field: "parent_job" });
        }
        break;
      }
      p = row.parent;
    }
  }
  const existing = st.jobByName.get({ name: spec.name });
  // Warnings travel inside the spec JSON, so every rewrite of the spec (toggle) keeps them and
  // every put replaces them; storedJobFromRow takes them out again.
  const specJson = JSON.stringify(cmd.warnings?.length ? { ...spec, warnings: cmd.warnings } : spec);
  if (!existing) {
    insertIndexedJob(s, spec, specJson, cmd.at);
  } else {
    const old = JSON.parse(existing.spec) as typeof spec;
    // A child that becomes a top-level job starts its schedule now too: its cursor still dates
    // from creation, so every slot since then would otherwise be due at once.
    const becameTopLevel = old.parent_job !== "" && spec.parent_job === "";
    const reschedule = old.schedule !== spec.schedule || old.timezone !== spec.timezone || becameTopLevel;
    const enabled = old.disabled && !spec.disabled;
    // A new run window applies from now: slots that passed outside the old one are not owed.
    const newWindow = old.starts_at !== spec.starts_at || old.expires_at !== spec.expires_at;
    // A new schedule starts its cadence now; slots of the old one never fire late.
    const anchor = reschedule ? cmd.at : existing.anchor;
    // Slots that passed while the job was disabled are not run when it is enabled again.
    // Neither are slots that passed outside an old run window (starts_at/expires_at).
    const cursor = reschedule || enabled || newWindow ? Math.max(existing.cursor, cmd.at) : existing.cursor;
    // One statement for every case: an anchor or cursor that does not move is written back as is.
    st.jobUpdate.run({
      name: spec.name,
      spec: specJson,
      parentJob: spec.parent_job,
      at: cmd.at,
      anchor,
      cursor,
    });
    indexJob(s, spec.name, spec, anchor, cursor);
  }
  if (cmd.counters) mergeCounters(s, spec.name, existing, cmd.counters);
  return { ok: true, value: { created: !existing }, events: [{ kind: "job.changed", name: spec.name }] };
}

/**
 * Merges a backup's counters into a job as Dkron's Store.SetJob does: the larger count and the later
 * time win, and a status already recorded wins over the backup's, so a restore never rolls back
 * what ran here.
 */
function mergeCounters(s: StateDb, name: string, before: JobRow | undefined, c: JobCounters): void {
  const later = (a: number | null | undefined, b: number | null) =>
    a === null || a === undefined ? b : b === null ? a : Math.max(a, b);
  s.db
    .update(jobs)
    .set({
      successCount: Math.max(before?.successCount ?? 0, c.success_count),
      errorCount: Math.max(before?.errorCount ?? 0, c.error_count),
      lastSuccess: later(before?.lastSuccess, c.last_success),
      lastError: later(before?.lastError, c.last_error),
      status: before?.status || c.status,
    })
    .where(eq(jobs.name, name))
    .run();
}

function deleteJob(s: StateDb, name: string): CommandResult<"job.delete"> {
  mustGetJob(s, name);
  const children = dependentsOf(s, name);
  if (children.length) {
    throw new AppError(
      "CONFLICT",
      `could not delete job with dependent jobs, delete children first: ${children.join(", ")}`,
      { field: "dependent_jobs" },
    );
  }
  removeJob(s, name);
  return { ok: true, events: [{ kind: "job.deleted", name }] };
}

/** Deletes a job with its executions (as Dkron does) and the dependent runs it was still owed. */
function removeJob(s: StateDb, name: string): void {
  // Exact name match: Dkron's prefix match also deleted the executions of "backup-db" with "backup".
  s.db.delete(executions).where(eq(executions.jobName, name)).run();
  s.db.delete(owedDependentRuns).where(eq(owedDependentRuns.jobName, name)).run();
  statements(s).jobMetadataDelete.run({ job: name });
  statements(s).jobTagsDelete.run({ job: name });
  deleteJobWebhooks(s, name);
  s.db.delete(jobs).where(eq(jobs.name, name)).run();
}

function toggleJob(s: StateDb, name: string, at: number, to?: boolean): CommandResult<"job.toggle"> {
  const job = mustGetJob(s, name);
  if (to !== undefined && to === job.spec.disabled) return { ok: true, events: [] };
  const spec = { ...job.spec, disabled: to ?? !job.spec.disabled };
  const cursor = spec.disabled ? job.row.cursor : Math.max(job.row.cursor, at);
  s.db
    .update(jobs)
    .set({ spec: JSON.stringify(spec), updatedAt: at, cursor })
    .where(eq(jobs.name, name))
    .run();
  indexJob(s, name, spec, job.row.anchor, cursor);
  return { ok: true, events: [{ kind: "job.changed", name }] };
}

function startExecution(
  s: StateDb,
  index: number,
  cmd: ExecutionStartCommand,
): CommandResult<"execution.start"> {
  const st = statements(s);
  const job = mustGetJob(s, cmd.job);
  // A webhook delivery: its hook, its replay check and the job's enabled state, before any write.
  checkDelivery(s, cmd, job.spec.disabled);
  const scheduled = cmd.trigger === "schedule" || cmd.trigger === "catchup";
  // The cursor fence: no slot at or before it may start. A skipped-dst record sits at the transition
  // instant, where a real run may also fall (the wall time just after the gap); cron slots are whole
  // seconds, so fencing 1 ms earlier accounts for the gap and leaves that run free to start.
  const dstSkip = cmd.executions.length > 0 && cmd.executions.every((e) => e.state === "skipped-dst");
  const fence = dstSkip ? cmd.scheduledAt - 1 : cmd.scheduledAt;
  if (scheduled) {
    if (fence <= job.row.cursor) {
      throw new AppError(
        "CONFLICT",
        `slot ${new Date(cmd.scheduledAt).toISOString()} of "${cmd.job}" already started`,
        {
          field: "scheduled_at",
        },
      );
    }
    if (job.spec.disabled) throw new AppError("CONFLICT", `job "${cmd.job}" is disabled`);
  }
  const dependent = cmd.trigger === "dependent";
  if (dependent) {
    // The owed run this start settles: the one it names, or (an entry proposed before runs were
    // owed in the state) the oldest. Settled here whatever follows, so it is started once at most.
    const owed =
      cmd.owed === undefined
        ? st.owedOldest.get({ job: cmd.job })
        : st.owedByMark.get({ job: cmd.job, mark: cmd.owed });
    if (cmd.owed !== undefined && !owed) {
      throw new AppError(
        "CONFLICT",
        `the dependent run of "${cmd.job}" owed since entry ${cmd.owed} already started`,
        { field: "owed" },
      );
    }
    if (owed) st.owedDelete.run({ job: cmd.job, mark: owed.mark });
    // Dkron's isRunnable: a disabled child is skipped when its parent succeeds.
    if (job.spec.disabled) return { ok: true, value: { skipped: "disabled" }, events: [] };
  }
  const running = cmd.executions.some((e) => (e.state ?? "running") === "running");
  if (running && cmd.trigger !== "retry" && job.spec.concurrency === "forbid") {
    const busy = st.executionRunning.get({ job: cmd.job });
    if (busy) {
      // A scheduled slot is skipped for good (Dkron's isRunnable): the cursor moves past it, or the
      // slot would start late once the run ends and every later slot would lag behind. So is a
      // dependent run (Dkron's dj.Run() checks isRunnable too): its owed mark is settled above.
      if (scheduled || dependent) {
        if (scheduled) {
          st.jobSetCursor.run({ name: cmd.job, cursor: cmd.scheduledAt });
          indexJobTimes(s, cmd.job, job.spec, job.row.anchor, cmd.scheduledAt);
          // Counted, not recorded: a long run of a frequent job must not flood its history.
          st.jobCountSkipped.run({ name: cmd.job, at: cmd.scheduledAt });
        }
        return { ok: true, value: { skipped: "concurrency", running: busy.id }, events: [] };
      }
      throw new AppError(
        "CONFLICT",
        `job "${cmd.job}" is still running (execution ${busy.id}) and its concurrency is forbid`,
        {
          field: "concurrency",
        },
      );
    }
  }
  if (scheduled) {
    st.jobSetCursor.run({ name: cmd.job, cursor: fence });
    indexJobTimes(s, cmd.job, job.spec, job.row.anchor, fence);
  }
  recordDelivery(s, cmd.at, cmd.delivery);

  const inserted: Execution[] = [];
  for (const target of cmd.executions) {
    const state = target.state ?? "running";
    const finished = state === "running" ? null : cmd.at;
    const row = {
      id: target.id,
      jobName: cmd.job,
      group: cmd.group,
      attempt: cmd.attempt,
      nodeName: target.node,
      trigger: cmd.trigger,
      scheduledAt: cmd.scheduledAt,
      // The runner reports its own start (ack, or result); until then the dispatch time stands in.
      startedAt: cmd.at,
      dispatchedAt: cmd.at,
      startReported: false,
      finishedAt: finished,
      state,
      success: state === "success",
      output: target.output ?? "",
      exitCode: null,
      payload: cmd.payload ?? null,
    };
    // An id already recorded is the same start committed twice (a re-proposal): nothing new, no
    // second `run` frame, no second error count or retry.
    if (st.executionInsert.run(row).changes === 0) continue;
    inserted.push(executionFromRow(row));
    if (state === "failed") bumpCounters(s, cmd.job, false, cmd.at);
  }
  const events: FsmEvent[] = [{ kind: "execution.started", job: cmd.job, executions: inserted }];
  const failed = inserted.filter((e) => e.state === "failed");
  if (failed.length) {
    const settled = settleGroup(s, index, cmd.at, cmd.job, cmd.group, job.spec);
    // A record that failed before it ran (no target) is finished at once: it is retried like any
    // failure, or its group would wait for a retry nobody starts and never get a status.
    for (const e of failed) {
      events.push({
        kind: "execution.finished",
        execution: e,
        outcome: settled.outcome,
        retry: retryPending(e, job.spec.retries),
      });
    }
    events.push(...settled.events);
  }
  prune(s, cmd.job, cmd.retain);
  return { ok: true, value: { executions: inserted }, events };
}

function startBatch(
  s: StateDb,
  index: number,
  cmd: ExecutionsStartCommand,
): CommandResult<"executions.start"> {
  return applyItems(s, cmd.starts, (start) =>
    startExecution(s, index, { type: "execution.start", ...start }),
  );
}

function finishBatch(
  s: StateDb,
  index: number,
  cmd: ExecutionsFinishCommand,
): CommandResult<"executions.finish"> {
  const jobsSeen = new Set<string>();
  return applyItems(s, cmd.finishes, (finish) =>
    finishExecution(s, index, { type: "execution.finish", ...finish }, jobsSeen),
  );
}

/**
 * Applies the items of a batch entry one after another, each in a savepoint: an item refused (or one
 * that hits a bug) is rolled back alone and reported in its place; the others apply. The entry's
 * events are the applied items' events, in order, so listeners see what separate entries would show.
 */
function applyItems<I, T extends "execution.start" | "execution.finish">(
  s: StateDb,
  items: readonly I[],
  one: (item: I) => CommandResult<T>,
): { ok: true; value: { results: CommandResult<T>[] }; events: FsmEvent[] } {
  const sp = savepoint(s);
  const results: CommandResult<T>[] = [];
  const events: FsmEvent[] = [];
  for (const item of items) {
    let r: CommandResult<T>;
    try {
      r = sp(() => one(item)) as CommandResult<T>;
    } catch (e) {
      // A storage fault may hit one replica only: refusing the item here would commit the rest of
      // the entry without it on this node alone. It fails the whole apply instead.
      if (isStorageFault(e)) throw e;
      r = { ok: false, error: rejection(e) };
    }
    if (r.ok) events.push(...r.events);
    results.push(r);
  }
  return { ok: true, value: { results }, events };
}

/**
 * Whether an error came from the disk or the database file (full, I/O, corrupt, read-only, busy) rather
 * than from the entry: such an error is not the same on every replica, so no entry may be skipped or
 * refused for it.
 */
export function isStorageFault(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return (
    e instanceof Error && e.name === "SqliteError" && typeof code === "string" && STORAGE_FAULT.test(code)
  );
}

/**
 * The primary result codes that say the disk, the file or the process failed (extended codes add a
 * suffix: SQLITE_IOERR_WRITE). Any other (SQLITE_ERROR from a bad JSON value, TOOBIG, MISMATCH, a
 * constraint) comes from the entry and the state, the same on every replica.
 */
const STORAGE_FAULT =
  /^SQLITE_(FULL|IOERR|CORRUPT|NOTADB|READONLY|CANTOPEN|BUSY|LOCKED|NOMEM|PROTOCOL|PERM)(_|$)/;

/** A refused item as its proposer hears it; an error that is not ours (a bug) is INTERNAL. */
function rejection(e: unknown): Rejection {
  if (isAppError(e)) return { code: e.code, message: e.message, details: e.details };
  return { code: "INTERNAL", message: String(e) };
}

type Savepoint = (fn: () => unknown) => unknown;
const savepoints = new WeakMap<StateDb, Savepoint>();

/** Runs `fn` in a savepoint (better-sqlite3 nests a transaction as one), rolled back if it throws. */
function savepoint(s: StateDb): Savepoint {
  let sp = savepoints.get(s);
  if (!sp) {
    sp = s.sqlite.transaction((fn: () => unknown) => fn());
    savepoints.set(s, sp);
  }
  return sp;
}

function bumpCounters(s: StateDb, job: string, success: boolean, at: number) {
  const st = statements(s);
  (success ? st.jobCountSuccess : st.jobCountError).run({ name: job, at });
}

/**
 * Recomputes the job status from a group once the group is complete. A successful group's
 * follow-ups (Dkron's ExecutionDone f and g) are state, so they survive the leader that applied it:
 * each child is owed a run, marked with this entry's `index` (the leader starts it and the start
 * settles the mark); an ephemeral job without children is deleted here, with its executions.
 */
function settleGroup(
  s: StateDb,
  index: number,
  at: number,
  job: string,
  group: number,
  spec: JobSpec | undefined,
): { outcome: GroupOutcome; events: FsmEvent[] } {
  const st = statements(s);
  const outcome = groupOutcome(groupExecutions(s, job, group), spec?.retries ?? 0);
  const events: FsmEvent[] = [];
  if (!outcome.complete) return { outcome, events };
  st.jobSetStatus.run({ name: job, status: outcome.status });
  if (outcome.status !== "success" || !spec) return { outcome, events };
  const children = dependentsOf(s, job);
  for (const child of children) {
    const run: OwedRun = { jobName: child, mark: index, parentJob: job, parentGroup: group, owedAt: at };
    st.owedInsert.run(run);
    events.push({ kind: "dependent.owed", run });
  }
  // Dkron keeps an ephemeral job that still has children (its delete would fail).
  if (spec.ephemeral && children.length === 0) {
    removeJob(s, job);
    events.push({ kind: "job.deleted", name: job });
  }
  return { outcome, events };
}

function finishExecution(
  s: StateDb,
  index: number,
  cmd: ExecutionFinishCommand,
  /** In a batch: the jobs an earlier finish of the entry settled (their marks would collide). */
  jobsSeen?: Set<string>,
): CommandResult<"execution.finish"> {
  const st = statements(s);
  const row = st.executionById.get({ id: cmd.id });
  if (!row) throw new AppError("NOT_FOUND", `execution "${cmd.id}" not found`, { field: "execution" });
  // A result reported twice (runner resend, new leader) is acknowledged and changes nothing.
  if (row.state !== "running") return { ok: true, value: { duplicate: true }, events: [] };
  if (jobsSeen) {
    if (jobsSeen.has(row.jobName)) {
      throw new AppError(
        "CONFLICT",
        `a second finish of job "${row.jobName}" in one entry; propose it in its own entry`,
        { field: "finishes" },
      );
    }
    jobsSeen.add(row.jobName);
  }
  const result = {
    id: cmd.id,
    state: cmd.state,
    // A placeholder in `set` skips drizzle's boolean encoder: SQLite stores 0/1.
    success: cmd.success ? 1 : 0,
    output: cmd.output,
    exitCode: cmd.exitCode,
    finishedAt: cmd.finishedAt,
  };
  if (cmd.startedAt === undefined) st.executionFinish.run(result);
  else st.executionFinishStarted.run({ ...result, startedAt: cmd.startedAt });
  bumpCounters(s, row.jobName, cmd.success, cmd.finishedAt);
  const jobRow = getJobRow(s, row.jobName);
  const spec = jobRow ? (JSON.parse(jobRow.spec) as JobSpec) : undefined;
  const retries = spec?.retries ?? 0;
  // The committed record, from the row read above and what this finish wrote (not read again); made
  // before the group settles: an ephemeral job's success deletes the job and its executions.
  const execution = executionFromRow({
    ...row,
    state: cmd.state,
    success: cmd.success,
    output: cmd.output,
    exitCode: cmd.exitCode,
    finishedAt: cmd.finishedAt,
    ...(cmd.startedAt === undefined ? {} : { startedAt: cmd.startedAt, startReported: true }),
  });
  const { outcome, events } = settleGroup(s, index, cmd.at, row.jobName, row.group, spec);
  return {
    ok: true,
    value: { execution },
    events: [
      { kind: "execution.finished", execution, outcome, retry: retryPending(execution, retries) },
      ...events,
    ],
  };
}

function recordStarts(s: StateDb, cmd: ExecutionsStartedCommand): CommandResult<"executions.started"> {
  const st = statements(s);
  let recorded = 0;
  for (const { id, startedAt } of cmd.starts) recorded += st.executionStarted.run({ id, startedAt }).changes;
  return { ok: true, value: { recorded }, events: [] };
}

function clearExecutions(s: StateDb, job: string, at: number): CommandResult<"executions.clear"> {
  mustGetJob(s, job);
  // Running records stay: they are still needed for concurrency and leases.
  s.db
    .delete(executions)
    .where(and(eq(executions.jobName, job), ne(executions.state, "running")))
    .run();
  s.db
    .update(jobs)
    .set({
      successCount: 0,
      errorCount: 0,
      lastSuccess: null,
      lastError: null,
      skippedCount: 0,
      lastSkipped: null,
      updatedAt: at,
    })
    .where(eq(jobs.name, job))
    .run();
  return { ok: true, events: [{ kind: "job.changed", name: job }] };
}

/**
 * Keeps at most `retain` executions of a job (exact name, running ones counted), removing the oldest
 * finished ones first; running ones are never removed. Counts first, so the common case (nothing
 * to remove) reads no ids however long the job's history is.
 */
function prune(s: StateDb, job: string, retain: number) {
  const st = statements(s);
  const excess = st.executionCount.get({ job })!.n - retain;
  if (!(excess > 0)) return;
  for (const { id } of st.executionsOldestFinished.all({ job, limit: Math.trunc(excess) })) {
    st.executionDelete.run({ id });
  }
}
