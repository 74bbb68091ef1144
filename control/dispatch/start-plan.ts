import type { Execution, JobSpec, NotRunState, Run, Trigger } from "../../shared";
import { type Candidate, parseTargetTags, qualifying, selectTargets } from "../../shared";
import type { ExecutionStartCommand, StartValue } from "../fsm";
import type { ConnectedRunner } from "../hub";

// The dispatcher's decisions, pure: which runners a run goes to, where a retry lands, how execution
// ids and group numbers are made, and what is recorded when no runner can take a run. The
// dispatcher supplies what it sees now (connected runners, time, randomness) and proposes the result.

/** The id of one execution: group, attempt and target node (a retry keeps the first attempt's target). */
export function executionId(group: number, attempt: number, node: string): string {
  return `${group}-${attempt}-${node}`;
}

/**
 * The group number of a new run: Dkron's group is a nanosecond timestamp; ms × 1000, kept above the
 * last one handed out, keeps groups unique and ordered on one leader.
 */
export function nextGroup(now: number, last: number): number {
  return Math.max(now * 1000, last + 1);
}

/** What a new run of a job is planned from. */
export interface RunPlanInput {
  jobName: string;
  spec: Pick<JobSpec, "tags">;
  group: number;
  trigger: Trigger;
  scheduledAt: number;
  /** The proposer's clock, stamped into the command. */
  at: number;
  retain: number;
  /** Runners that can take the run now. */
  candidates: readonly Candidate[];
  /**
   * Every runner connected now, with why each that cannot take the run cannot (read only when there
   * is no target, for the note that says why); default: `candidates`.
   */
  connected?: () => readonly ConnectedRunner[];
  random: () => number;
  /** The mark of the owed dependent run this start settles. */
  owed?: number;
}

/**
 * The start of a new run group on the targets the job's tags select among `candidates`; with no
 * target, one failed record that says why (a run is never silently dropped).
 */
export function planRun(p: RunPlanInput): ExecutionStartCommand {
  const targets = selectTargets(p.candidates, p.spec.tags, p.random);
  const executions: ExecutionStartCommand["executions"] = targets.length
    ? targets.map((t) => ({ id: executionId(p.group, 1, t.name), node: t.name }))
    : [
        {
          id: executionId(p.group, 1, "none"),
          node: "",
          state: "failed",
          output: noTargetNote(p.jobName, p.spec.tags, p.connected ? p.connected() : p.candidates),
        },
      ];
  return {
    type: "execution.start",
    at: p.at,
    job: p.jobName,
    group: p.group,
    trigger: p.trigger,
    attempt: 1,
    scheduledAt: p.scheduledAt,
    retain: p.retain,
    executions,
    ...(p.owed === undefined ? {} : { owed: p.owed }),
  };
}

/**
 * Why a run has no target: the tags asked for and each connected runner with why it was not
 * picked (it cannot take a run now, or its tags differ).
 */
export function noTargetNote(
  jobName: string,
  tags: Record<string, string> | null | undefined,
  connected: readonly ConnectedRunner[],
): string {
  const { match, count } = parseTargetTags(tags);
  const why = (c: ConnectedRunner) =>
    c.unavailable ??
    (qualifying([c], match).length === 0
      ? "tags differ"
      : count <= 0
        ? `the tags ask for ${count} nodes`
        : "");
  const list =
    connected
      .map((c) => {
        const w = why(c);
        return w ? `${c.name} (${w})` : c.name;
      })
      .join(", ") || "none";
  return `no target nodes found to run job ${jobName} (tags ${JSON.stringify(tags ?? {})}; connected runners: ${list})`;
}

/**
 * The record of a slot deliberately not run: `missed` (catch-up policy) or `skipped-dst` (wall times
 * the clock jumped over, under `dst: skip`); `note` says why.
 */
export function planMissed(p: {
  jobName: string;
  group: number;
  scheduledAt: number;
  at: number;
  retain: number;
  note: string;
  state?: NotRunState;
}): ExecutionStartCommand {
  const state = p.state ?? "missed";
  return {
    type: "execution.start",
    at: p.at,
    job: p.jobName,
    group: p.group,
    trigger: "schedule",
    attempt: 1,
    scheduledAt: p.scheduledAt,
    retain: p.retain,
    executions: [{ id: executionId(p.group, 1, state), node: "", state, output: p.note }],
  };
}

/** What the next attempt of a failed execution is planned from. */
export interface RetryPlanInput {
  failed: Execution;
  spec: Pick<JobSpec, "tags">;
  at: number;
  retain: number;
  /** Whether a runner is connected now. */
  isConnected: (name: string) => boolean;
  candidates: readonly Candidate[];
  random: () => number;
  /** The failed attempt's webhook payload, carried to the next one. */
  payload?: string | undefined;
}

/**
 * The next attempt of a failed execution: on the same runner while it is connected, else on a
 * random runner the job's tags select, else a failed record saying no runner is left. The id names
 * the target the run started on, not the runner the retry lands on: two failures retried on one
 * runner would otherwise share an id and the second retry would be lost.
 */
export function planRetry(p: RetryPlanInput): ExecutionStartCommand {
  const { failed } = p;
  let node = failed.node_name;
  if (!p.isConnected(node)) {
    const pool = selectTargets(p.candidates, p.spec.tags, p.random);
    node = pool[Math.floor(p.random() * pool.length)]?.name ?? "";
  }
  const attempt = failed.attempt + 1;
  const id = executionId(failed.group, attempt, firstTarget(failed));
  return {
    type: "execution.start",
    at: p.at,
    job: failed.job_name,
    group: failed.group,
    trigger: "retry",
    attempt,
    scheduledAt: failed.scheduled_at,
    retain: p.retain,
    executions: node
      ? [{ id, node }]
      : [
          {
            id,
            node: failed.node_name,
            state: "failed",
            output: `retry: runner ${failed.node_name} is gone and no other target matches`,
          },
        ],
    ...(p.payload === undefined ? {} : { payload: p.payload }),
  };
}

/** The target an execution's group first started on, read back from its id. */
function firstTarget(e: Execution): string {
  const prefix = `${e.group}-${e.attempt}-`;
  return e.id.startsWith(prefix) ? e.id.slice(prefix.length) : e.node_name || "none";
}

/** The records of a committed start that a runner must now be sent (running ones). */
export function toDispatch(value: StartValue): Execution[] {
  return "executions" in value ? value.executions.filter((e) => e.state === "running") : [];
}

/** The `run` frame that sends an execution of a job to its runner, with its webhook payload if any. */
export function runFrame(
  e: Execution,
  spec: Pick<JobSpec, "executor" | "executor_config">,
  payload?: string,
): Run {
  return {
    type: "run",
    execution_id: e.id,
    job_name: e.job_name,
    scheduled_at: new Date(e.scheduled_at).toISOString(),
    attempt: e.attempt,
    executor: spec.executor,
    config: spec.executor_config ?? {},
    ...(payload === undefined ? {} : { payload }),
  };
}
