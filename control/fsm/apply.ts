import { and, asc, eq, inArray, ne, sql } from "drizzle-orm";
import { AppError } from "../../shared/errors";
import type { Execution } from "../../shared/execution";
import type { StateDb } from "../store/db";
import { groupExecutions } from "../store/execution-queries";
import { dependentsOf, getStoredJob } from "../store/job-queries";
import { executionFromRow } from "../store/rows";
import { executions, jobs, meta, peers } from "../store/schema";
import type { Command, ExecutionFinishCommand, ExecutionStartCommand } from "./commands";
import { type GroupOutcome, groupOutcome, retryPending } from "./group-status";

/** What the proposer learns from an applied command, to drive side effects after commit. */
export type FsmEvent =
  | { kind: "job.changed"; name: string }
  | { kind: "job.deleted"; name: string }
  | { kind: "peers.changed" }
  | { kind: "execution.started"; job: string; executions: Execution[] }
  | {
      kind: "execution.finished";
      execution: Execution;
      outcome: GroupOutcome;
      /** Set when this failed attempt will be retried. */
      retry: boolean;
    };

/** The result of applying one command: a value or a typed rejection, plus events. */
export type ApplyResult =
  | { ok: true; value?: unknown; events: FsmEvent[] }
  | { ok: false; error: { code: AppError["code"]; message: string; details?: Record<string, unknown> } };

const LAST_APPLIED = "last_applied";

/** The index of the last command applied to the state tables (0 for a new database). */
export function lastApplied(s: StateDb): number {
  return s.db.select().from(meta).where(eq(meta.key, LAST_APPLIED)).get()?.value ?? 0;
}

/**
 * Applies one log entry in one transaction with `last_applied`, so a crash never applies an entry
 * twice or loses one. Deterministic: reads only the command and the state tables. An entry at or
 * below last_applied is skipped (replay after restart). A rejected command changes nothing but
 * last_applied.
 */
export function apply(s: StateDb, index: number, cmd: Command): ApplyResult {
  return s.sqlite.transaction((): ApplyResult => {
    if (index <= lastApplied(s)) return { ok: true, value: { skipped: true }, events: [] };
    let result: ApplyResult;
    try {
      result = applyCommand(s, cmd);
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      result = { ok: false, error: { code: e.code, message: e.message, details: e.details } };
    }
    s.db
      .insert(meta)
      .values({ key: LAST_APPLIED, value: index })
      .onConflictDoUpdate({ target: meta.key, set: { value: index } })
      .run();
    return result;
  })();
}

function applyCommand(s: StateDb, cmd: Command): ApplyResult {
  switch (cmd.type) {
    case "noop":
      return { ok: true, events: [] };
    case "job.put":
      return putJob(s, cmd);
    case "job.delete":
      return deleteJob(s, cmd.name);
    case "job.toggle":
      return toggleJob(s, cmd.name, cmd.at);
    case "execution.start":
      return startExecution(s, cmd);
    case "execution.finish":
      return finishExecution(s, cmd);
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
  }
}

function mustGetJob(s: StateDb, name: string) {
  const job = getStoredJob(s, name);
  if (!job) throw new AppError("NOT_FOUND", `job "${name}" not found`, { field: "job" });
  return job;
}

function putJob(s: StateDb, cmd: Extract<Command, { type: "job.put" }>): ApplyResult {
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
      const row = s.db.select({ parent: jobs.parentJob }).from(jobs).where(eq(jobs.name, p)).get();
      if (!row) {
        if (p === spec.parent_job) {
          throw new AppError("NOT_FOUND", "specified parent job not found", { field: "parent_job" });
        }
        break;
      }
      p = row.parent;
    }
  }
  const existing = s.db.select().from(jobs).where(eq(jobs.name, spec.name)).get();
  const specJson = JSON.stringify(spec);
  if (!existing) {
    s.db
      .insert(jobs)
      .values({
        name: spec.name,
        spec: specJson,
        parentJob: spec.parent_job,
        anchor: cmd.at,
        cursor: cmd.at,
        createdAt: cmd.at,
        updatedAt: cmd.at,
      })
      .run();
  } else {
    const old = JSON.parse(existing.spec) as typeof spec;
    // A child that becomes a top-level job starts its schedule now too: its cursor still dates
    // from creation, so every slot since then would otherwise be due at once.
    const becameTopLevel = old.parent_job !== "" && spec.parent_job === "";
    const reschedule = old.schedule !== spec.schedule || old.timezone !== spec.timezone || becameTopLevel;
    const enabled = old.disabled && !spec.disabled;
    // A new run window applies from now: slots that passed outside the old one are not owed.
    const newWindow = old.starts_at !== spec.starts_at || old.expires_at !== spec.expires_at;
    s.db
      .update(jobs)
      .set({
        spec: specJson,
        parentJob: spec.parent_job,
        updatedAt: cmd.at,
        // A new schedule starts its cadence now; slots of the old one never fire late.
        ...(reschedule ? { anchor: cmd.at, cursor: Math.max(existing.cursor, cmd.at) } : {}),
        // Slots that passed while the job was disabled are not run when it is enabled again.
        // Neither are slots that passed outside an old run window (starts_at/expires_at).
        ...((enabled || newWindow) && !reschedule ? { cursor: Math.max(existing.cursor, cmd.at) } : {}),
      })
      .where(eq(jobs.name, spec.name))
      .run();
  }
  return { ok: true, value: { created: !existing }, events: [{ kind: "job.changed", name: spec.name }] };
}

function deleteJob(s: StateDb, name: string): ApplyResult {
  mustGetJob(s, name);
  const children = dependentsOf(s, name);
  if (children.length) {
    throw new AppError(
      "CONFLICT",
      `could not delete job with dependent jobs, delete children first: ${children.join(", ")}`,
      { field: "dependent_jobs" },
    );
  }
  // Exact name match: Dkron's prefix match also deleted the executions of "backup-db" with "backup".
  s.db.delete(executions).where(eq(executions.jobName, name)).run();
  s.db.delete(jobs).where(eq(jobs.name, name)).run();
  return { ok: true, events: [{ kind: "job.deleted", name }] };
}

function toggleJob(s: StateDb, name: string, at: number): ApplyResult {
  const job = mustGetJob(s, name);
  const spec = { ...job.spec, disabled: !job.spec.disabled };
  s.db
    .update(jobs)
    .set({
      spec: JSON.stringify(spec),
      updatedAt: at,
      ...(spec.disabled ? {} : { cursor: Math.max(job.cursor, at) }),
    })
    .where(eq(jobs.name, name))
    .run();
  return { ok: true, events: [{ kind: "job.changed", name }] };
}

function startExecution(s: StateDb, cmd: ExecutionStartCommand): ApplyResult {
  const job = mustGetJob(s, cmd.job);
  const scheduled = cmd.trigger === "schedule" || cmd.trigger === "catchup";
  if (scheduled) {
    if (cmd.scheduledAt <= job.cursor) {
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
  // Dkron's isRunnable: a disabled child is skipped when its parent succeeds.
  if (cmd.trigger === "dependent" && job.spec.disabled)
    throw new AppError("CONFLICT", `job "${cmd.job}" is disabled`);
  const running = cmd.executions.some((e) => (e.state ?? "running") === "running");
  if (running && cmd.trigger !== "retry" && job.spec.concurrency === "forbid") {
    const busy = s.db
      .select({ id: executions.id })
      .from(executions)
      .where(and(eq(executions.jobName, cmd.job), eq(executions.state, "running")))
      .get();
    if (busy) {
      // A scheduled slot is skipped for good (Dkron's isRunnable): the cursor moves past it, or the
      // slot would start late once the run ends and every later slot would lag behind.
      if (scheduled) {
        s.db.update(jobs).set({ cursor: cmd.scheduledAt }).where(eq(jobs.name, cmd.job)).run();
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
  if (scheduled) s.db.update(jobs).set({ cursor: cmd.scheduledAt }).where(eq(jobs.name, cmd.job)).run();

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
      startedAt: cmd.at,
      finishedAt: finished,
      state,
      success: state === "success",
      output: target.output ?? "",
      exitCode: null,
    };
    // An id already recorded is the same start committed twice (a re-proposal): nothing new, no
    // second `run` frame, no second error count or retry.
    if (s.db.insert(executions).values(row).onConflictDoNothing().run().changes === 0) continue;
    inserted.push(executionFromRow(row));
    if (state === "failed") bumpCounters(s, cmd.job, false, cmd.at);
  }
  const events: FsmEvent[] = [{ kind: "execution.started", job: cmd.job, executions: inserted }];
  const failed = inserted.filter((e) => e.state === "failed");
  if (failed.length) {
    const outcome = settleGroup(s, cmd.job, cmd.group, job.spec.retries);
    // A record that failed before it ran (no target) is finished at once: it is retried like any
    // failure, or its group would wait for a retry nobody starts and never get a status.
    for (const e of failed) {
      events.push({
        kind: "execution.finished",
        execution: e,
        outcome,
        retry: retryPending(e, job.spec.retries),
      });
    }
  }
  prune(s, cmd.job, cmd.retain);
  return { ok: true, value: { executions: inserted }, events };
}

function bumpCounters(s: StateDb, job: string, success: boolean, at: number) {
  s.db
    .update(jobs)
    .set(
      success
        ? {
            successCount: sql`${jobs.successCount} + 1`,
            lastSuccess: sql`max(coalesce(${jobs.lastSuccess}, 0), ${at})`,
          }
        : {
            errorCount: sql`${jobs.errorCount} + 1`,
            lastError: sql`max(coalesce(${jobs.lastError}, 0), ${at})`,
          },
    )
    .where(eq(jobs.name, job))
    .run();
}

/** Recomputes the job status from a group once the group is complete. */
function settleGroup(s: StateDb, job: string, group: number, retries: number): GroupOutcome {
  const outcome = groupOutcome(groupExecutions(s, job, group), retries);
  if (outcome.complete) s.db.update(jobs).set({ status: outcome.status }).where(eq(jobs.name, job)).run();
  return outcome;
}

function finishExecution(s: StateDb, cmd: ExecutionFinishCommand): ApplyResult {
  const row = s.db.select().from(executions).where(eq(executions.id, cmd.id)).get();
  if (!row) throw new AppError("NOT_FOUND", `execution "${cmd.id}" not found`, { field: "execution" });
  // A result reported twice (runner resend, new leader) is acknowledged and changes nothing.
  if (row.state !== "running") return { ok: true, value: { duplicate: true }, events: [] };
  s.db
    .update(executions)
    .set({
      state: cmd.state,
      success: cmd.success,
      output: cmd.output,
      exitCode: cmd.exitCode,
      finishedAt: cmd.finishedAt,
      ...(cmd.startedAt === undefined ? {} : { startedAt: cmd.startedAt }),
    })
    .where(eq(executions.id, cmd.id))
    .run();
  bumpCounters(s, row.jobName, cmd.success, cmd.finishedAt);
  const job = getStoredJob(s, row.jobName);
  const retries = job?.spec.retries ?? 0;
  const execution = executionFromRow(s.db.select().from(executions).where(eq(executions.id, cmd.id)).get()!);
  const outcome = settleGroup(s, row.jobName, row.group, retries);
  return {
    ok: true,
    value: { execution },
    events: [{ kind: "execution.finished", execution, outcome, retry: retryPending(execution, retries) }],
  };
}

function clearExecutions(s: StateDb, job: string, at: number): ApplyResult {
  mustGetJob(s, job);
  // Running records stay: they are still needed for concurrency and leases.
  s.db
    .delete(executions)
    .where(and(eq(executions.jobName, job), ne(executions.state, "running")))
    .run();
  s.db
    .update(jobs)
    .set({ successCount: 0, errorCount: 0, lastSuccess: null, lastError: null, updatedAt: at })
    .where(eq(jobs.name, job))
    .run();
  return { ok: true, events: [{ kind: "job.changed", name: job }] };
}

/** Keeps the newest `retain` finished executions of a job (exact name), oldest removed first. */
function prune(s: StateDb, job: string, retain: number) {
  const finished = s.db
    .select({ id: executions.id })
    .from(executions)
    .where(and(eq(executions.jobName, job), ne(executions.state, "running")))
    .orderBy(asc(executions.startedAt), asc(executions.id))
    .all();
  const running = s.db
    .select({ n: sql<number>`count(*)` })
    .from(executions)
    .where(and(eq(executions.jobName, job), eq(executions.state, "running")))
    .get()!.n;
  const excess = finished.length + running - retain;
  if (excess <= 0) return;
  const ids = finished.slice(0, Math.min(excess, finished.length)).map((r) => r.id);
  if (ids.length) s.db.delete(executions).where(inArray(executions.id, ids)).run();
}
