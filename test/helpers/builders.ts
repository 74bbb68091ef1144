import type { Command, ExecutionFinishCommand, ExecutionStartCommand } from "../../control/fsm/commands";
import { validateJob } from "../../control/jobs/validate-job";
import type { StateDb } from "../../control/store/db";
import type { JobInput, JobSpec } from "../../shared/job";
import type { Result } from "../../shared/wire";

/** 2026-01-01T00:00:00Z: the instant test clocks and commands start from unless told otherwise. */
export const T0 = Date.UTC(2026, 0, 1);

/** One minute in ms. */
export const MINUTE = 60_000;

/**
 * A validated job spec with test defaults (`@every 1m`, shell `true`), through the same validateJob
 * the API uses, so every default a user would get is filled in.
 */
export function jobSpec(over: Partial<JobInput> & { name?: string } = {}): JobSpec {
  return validateJob({
    name: "job",
    schedule: "@every 1m",
    executor: "shell",
    executor_config: { command: "true" },
    ...over,
  });
}

/** A `job.put` command for jobSpec(over) stamped at `at`. */
export function putJob(over: Partial<JobInput> = {}, at = T0): Extract<Command, { type: "job.put" }> {
  return { type: "job.put", at, job: jobSpec(over) };
}

/** An `execution.start` command with one running target `r1` unless told otherwise. */
export function startExecution(over: Partial<ExecutionStartCommand> = {}): ExecutionStartCommand {
  const group = over.group ?? 1;
  return {
    type: "execution.start",
    at: T0 + MINUTE,
    job: "job",
    group,
    trigger: "manual",
    attempt: 1,
    scheduledAt: over.at ?? T0 + MINUTE,
    retain: 100,
    executions: [{ id: `${group}-1-r1`, node: "r1" }],
    ...over,
  };
}

/** An `execution.finish` command for `id`, successful unless told otherwise. */
export function finishExecution(
  id: string,
  over: Partial<ExecutionFinishCommand> = {},
): ExecutionFinishCommand {
  const success = over.success ?? (over.state === undefined || over.state === "success");
  return {
    type: "execution.finish",
    at: T0 + 2 * MINUTE,
    id,
    state: success ? "success" : "failed",
    success,
    output: success ? "ok\n" : "boom\n",
    exitCode: success ? 0 : 1,
    finishedAt: T0 + 2 * MINUTE,
    ...over,
  };
}

/** A runner's `result` frame for an execution. */
export function resultFrame(id: string, over: Partial<Result> = {}): Result {
  const success = over.success ?? true;
  return {
    type: "result",
    execution_id: id,
    success,
    output: success ? "ok\n" : "boom\n",
    exit_code: success ? 0 : 1,
    started_at: T0,
    finished_at: T0,
    ...over,
  };
}

/** Every row of the state tables, ordered by primary key: two databases are equal when their dumps are. */
export function dumpTables(
  s: StateDb,
  tables = ["meta", "jobs", "executions", "owed_dependent_runs", "peers"],
): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const t of tables) out[t] = s.sqlite.prepare(`select * from ${t} order by 1`).all();
  return out;
}

/** Raw jobs row of one job (server-maintained columns included). */
export function jobRow(s: StateDb, name: string): Record<string, unknown> | undefined {
  return s.sqlite.prepare("select * from jobs where name = ?").get(name) as
    | Record<string, unknown>
    | undefined;
}
