import type { ExecutionState, Trigger } from "../../shared/execution";
import type { JobSpec } from "../../shared/job";

/**
 * Every change to durable state is one of these commands, proposed to the log and applied by
 * `apply`. The proposer stamps time (`at`) and ids so apply stays deterministic on every replica.
 */
export type Command =
  | { type: "job.put"; at: number; job: JobSpec }
  | { type: "job.delete"; at: number; name: string }
  | { type: "job.toggle"; at: number; name: string }
  | ExecutionStartCommand
  | ExecutionFinishCommand
  | { type: "executions.clear"; at: number; job: string }
  | { type: "noop"; at: number }
  /** Records where a control node's HTTP API is (Raft RPC rides on it). */
  | { type: "peer.set"; at: number; id: string; addr: string }
  | { type: "peer.remove"; at: number; id: string };

/** Starts one run (a group) of a job on its targets; rejected for a slot that already started. */
export interface ExecutionStartCommand {
  type: "execution.start";
  at: number;
  job: string;
  group: number;
  trigger: Trigger;
  attempt: number;
  /** The slot time: the cron fire time for scheduled runs, the request time otherwise. */
  scheduledAt: number;
  /** Keep at most this many executions of the job (the proposer's configured retention). */
  retain: number;
  /** One record per target; `state` other than running records a run that did not happen. */
  executions: { id: string; node: string; state?: ExecutionState; output?: string }[];
  /**
   * For a dependent run: the mark of the owed run it starts (the log index of the parent's
   * finish). Apply settles that mark with the start and rejects a second start for it.
   */
  owed?: number;
}

/** Records the result of one execution. */
export interface ExecutionFinishCommand {
  type: "execution.finish";
  at: number;
  id: string;
  state: "success" | "failed" | "lost";
  success: boolean;
  output: string;
  exitCode: number | null;
  startedAt?: number;
  finishedAt: number;
}

/** The command types, for logs and metrics. */
export type CommandType = Command["type"];
