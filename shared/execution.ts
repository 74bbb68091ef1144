import { z } from "zod";
import { toRfc3339, ZERO_TIME } from "./time";

/** Why an execution exists. */
export const TRIGGERS = ["schedule", "manual", "retry", "dependent", "catchup", "webhook"] as const;
export type Trigger = (typeof TRIGGERS)[number];

/**
 * Lifecycle of one execution record. `missed` = a slot recorded but deliberately not run (catch-up
 * policy); `skipped-dst` = wall times a job's `dst: skip` rule does not run because the clock jumped
 * over them (one record per transition, its output says which and how many).
 */
export const EXECUTION_STATES = ["running", "success", "failed", "lost", "missed", "skipped-dst"] as const;
export type ExecutionState = (typeof EXECUTION_STATES)[number];

/** States of records that account for a slot without running it. */
export type NotRunState = Extract<ExecutionState, "missed" | "skipped-dst">;

/** True for a record that only accounts for a slot (missed, skipped-dst): it never ran and never will. */
export function isNotRun(e: { state: ExecutionState }): boolean {
  return e.state === "missed" || e.state === "skipped-dst";
}

/** One execution on one target node (one attempt). Times are epoch ms. */
export const ExecutionSchema = z.object({
  id: z.string(),
  job_name: z.string(),
  /** Run group: shared by all targets and retries of one run. */
  group: z.number().int(),
  attempt: z.number().int().min(1),
  node_name: z.string(),
  trigger: z.enum(TRIGGERS),
  /** The slot time this run belongs to (the cron fire time; the request time for manual runs). */
  scheduled_at: z.number(),
  /**
   * When the process (or request) started on the runner, by the runner's clock, once reported
   * (`start_reported`); until then (and for a run that never reached a runner) `dispatched_at`.
   */
  started_at: z.number(),
  /** Our extension: when the leader dispatched the run (the time on its start command). */
  dispatched_at: z.number(),
  /** Our extension: whether `started_at` is the runner's report of the start. */
  start_reported: z.boolean(),
  finished_at: z.number().nullable(),
  state: z.enum(EXECUTION_STATES),
  success: z.boolean(),
  output: z.string(),
  exit_code: z.number().int().nullable(),
});
export type Execution = z.infer<typeof ExecutionSchema>;

/**
 * Dkron's JSON rendering of an execution, with our additions (scheduled_at, state, trigger,
 * exit_code, dispatched_at, start_lateness_ms).
 */
export interface ExecutionJson {
  id: string;
  job_name: string;
  started_at: string;
  finished_at: string;
  success: boolean;
  output: string;
  node_name: string;
  group: number;
  attempt: number;
  scheduled_at: string;
  state: ExecutionState;
  trigger: Trigger;
  exit_code: number | null;
  /** When the leader dispatched the run. */
  dispatched_at: string;
  /** started_at − scheduled_at of a scheduled run (schedule, catchup); null otherwise or until known. */
  start_lateness_ms: number | null;
  output_truncated?: boolean;
}

/** Triggers whose `scheduled_at` is a slot the schedule fixed, so a late start is lateness. */
export const SCHEDULED_TRIGGERS: readonly Trigger[] = ["schedule", "catchup"];

/** How late a scheduled run started (runner start − slot, ms), or null when not scheduled or not known. */
export function startLatenessMs(
  e: Pick<Execution, "trigger" | "start_reported" | "started_at" | "scheduled_at">,
): number | null {
  return SCHEDULED_TRIGGERS.includes(e.trigger) && e.start_reported ? e.started_at - e.scheduled_at : null;
}

/** Renders an execution in Dkron's JSON shape; `outputLimit` keeps the output's tail (bytes). */
export function executionToJson(e: Execution, outputLimit?: number): ExecutionJson {
  let output = e.output;
  let truncated: boolean | undefined;
  if (outputLimit !== undefined) {
    truncated = false;
    const bytes = new TextEncoder().encode(output);
    if (bytes.length > outputLimit) {
      output = new TextDecoder().decode(bytes.subarray(bytes.length - outputLimit));
      truncated = true;
    }
  }
  return {
    id: e.id,
    job_name: e.job_name,
    started_at: toRfc3339(e.started_at)!,
    finished_at: toRfc3339(e.finished_at) ?? ZERO_TIME,
    success: e.success,
    output,
    node_name: e.node_name,
    group: e.group,
    attempt: e.attempt,
    scheduled_at: toRfc3339(e.scheduled_at)!,
    state: e.state,
    trigger: e.trigger,
    exit_code: e.exit_code,
    dispatched_at: toRfc3339(e.dispatched_at)!,
    start_lateness_ms: startLatenessMs(e),
    ...(truncated === undefined ? {} : { output_truncated: truncated }),
  };
}
