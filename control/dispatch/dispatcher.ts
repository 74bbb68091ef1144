import type { Clock, TimerHandle } from "../../shared/clock";
import { AppError } from "../../shared/errors";
import type { Execution, Trigger } from "../../shared/execution";
import type { Logger } from "../../shared/logger";
import { parseTargetTags, qualifying, selectTargets } from "../../shared/tags";
import type { Hello, Output, Result } from "../../shared/wire";
import type { Consensus } from "../consensus/consensus";
import type { ApplyResult, FsmEvent } from "../fsm/apply";
import type { ExecutionStartCommand } from "../fsm/commands";
import { retriesOwed } from "../fsm/group-status";
import type { RunnerHub, RunnerSession } from "../hub/runner-hub";
import type { StateDb } from "../store/db";
import {
  failedExecutions,
  getExecution,
  groupExecutions,
  runningExecutions,
} from "../store/execution-queries";
import { getStoredJob } from "../store/job-queries";
import { isOwed, owedRuns } from "../store/owed-run-queries";
import type { OwedRun } from "../store/rows";
import { retryBackoffMs } from "./backoff";
import { LiveOutput } from "./live-output";

/** Dispatcher settings (resolved from the node config). */
export interface DispatcherOptions {
  /** Executions kept per job. */
  retain: number;
  /** A running execution no runner has reported for this long is marked lost. */
  leaseMs: number;
}

/** Dependencies of the dispatcher. */
export interface DispatcherDeps {
  consensus: Consensus;
  state: StateDb;
  hub: RunnerHub;
  clock: Clock;
  logger: Logger;
  random: () => number;
}

/** Least wait before a retry or dependent run taken over from a previous leader: runners reconnect first. */
const RESUME_WAIT_MS = 5_000;

/**
 * Starts runs and follows them to the end: proposes `execution.start`, sends `run` to the
 * targets after commit, proposes each `execution.finish`, and on commit drives retries (with
 * Dkron's back-off) and the dependent runs the state says are owed (apply records them, and deletes
 * ephemeral jobs, when a group succeeds). Executions whose runner stops reporting become `lost`
 * after a lease, so a `forbid` job is never blocked forever.
 */
export class Dispatcher {
  readonly live = new LiveOutput();
  private readonly leases = new Map<string, { node: string; deadline: number }>();
  private leaseTimer: TimerHandle | undefined;
  private lastGroup = 0;
  /** Execution ids this leader proposed to start, dispatched when they commit. */
  private readonly ownStarts = new Set<string>();
  /** Per connected runner: since when its process is up, and the executions it said it knows. */
  private readonly runnerInfo = new Map<string, { upSince: number; known: Set<string> }>();
  private leading = false;
  /** When this node last became leader (runners are still reconnecting for a while after). */
  private leadingSince = 0;
  private readonly timers = new Set<TimerHandle>();

  constructor(
    private readonly deps: DispatcherDeps,
    private readonly opts: DispatcherOptions,
  ) {
    deps.consensus.onApplied((_i, _cmd, result) => {
      if (this.leading && result.ok) for (const ev of result.events) this.onEvent(ev);
    });
  }

  /**
   * Takes over dispatch on gaining leadership: re-leases running executions, resumes retries and
   * starts the dependent runs still owed.
   */
  startLeading(): void {
    this.leading = true;
    this.ownStarts.clear();
    const now = this.deps.clock.now();
    this.leadingSince = now;
    for (const e of runningExecutions(this.deps.state))
      this.leases.set(e.id, { node: e.node_name, deadline: now + this.opts.leaseMs });
    this.resumeRetries(now);
    this.resumeOwedRuns();
    this.armLeaseCheck();
  }

  /**
   * Dependent runs owed by a parent success that the previous leader (or this node before a
   * restart) did not get started: the owed mark is state, so they are not lost with it. Runs owed
   * from now on arrive as `dependent.owed` events instead. A start the previous leader proposed may
   * still commit meanwhile; apply settles each mark once, so the child never runs twice for it.
   */
  private resumeOwedRuns(): void {
    const owed = owedRuns(this.deps.state);
    if (!owed.length) return;
    this.deps.logger.info("dependent runs owed by a previous leader", { runs: owed.length });
    this.later(RESUME_WAIT_MS, () => {
      for (const run of owed) this.startOwed(run);
    });
  }

  /**
   * Starts a dependent run the state says is owed, unless it already started. The start names the
   * mark, and apply refuses a second start for one, so racing paths (this leader's event and its
   * take-over, or an old leader's start still in the log) start the child once. A child that is
   * disabled or (`forbid`) still running is skipped, as Dkron's isRunnable does, and the mark settled.
   */
  private startOwed(run: OwedRun): void {
    if (!this.leading || !isOwed(this.deps.state, run.jobName, run.mark)) return;
    // Just after a take-over the child's runners may not be back yet: wait for them (up to
    // RESUME_WAIT_MS after taking over) rather than record a "no target" failure.
    const sinceTakeover = this.deps.clock.now() - this.leadingSince;
    const tags = getStoredJob(this.deps.state, run.jobName)?.spec.tags;
    if (
      sinceTakeover < RESUME_WAIT_MS &&
      qualifying(this.deps.hub.candidates(), parseTargetTags(tags).match).length === 0
    ) {
      this.later(Math.min(500, RESUME_WAIT_MS - sinceTakeover), () => this.startOwed(run));
      return;
    }
    this.run(run.jobName, "dependent", run.owedAt, run.mark).then(
      (res) => {
        const skipped = res.ok ? (res.value as { skipped?: string } | undefined)?.skipped : undefined;
        if (!res.ok)
          this.deps.logger.debug("dependent run not started", { job: run.jobName, err: res.error.message });
        else if (skipped)
          this.deps.logger.info("dependent run skipped", {
            job: run.jobName,
            parent: run.parentJob,
            skipped,
          });
      },
      (err) => {
        // Not written, or its outcome unknown: while the mark stays owed, try again (a start that
        // did commit settled it, and a duplicate would be refused anyway).
        this.deps.logger.warn("dependent job failed to start", { job: run.jobName, err: String(err) });
        this.later(RESUME_WAIT_MS, () => this.startOwed(run));
      },
    );
  }

  /**
   * Retries whose back-off timer died with the previous leader (or process) are owed by this one:
   * without them their groups never complete, so no status, dependent jobs or ephemeral delete.
   * They wait out the rest of their back-off, and at least RESUME_WAIT_MS so runners can reconnect.
   */
  private resumeRetries(now: number): void {
    const seen = new Set<string>();
    for (const f of failedExecutions(this.deps.state)) {
      const key = `${f.job_name}\u0000${f.group}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const job = getStoredJob(this.deps.state, f.job_name);
      if (!job) continue;
      for (const e of retriesOwed(groupExecutions(this.deps.state, f.job_name, f.group), job.spec.retries)) {
        const finished = e.finished_at ?? e.started_at;
        const due = finished + retryBackoffMs(finished - e.started_at, e.attempt);
        this.later(
          Math.max(RESUME_WAIT_MS, due - now),
          () =>
            void this.retry(e).catch((err) =>
              this.deps.logger.warn("retry failed to start", { job: e.job_name, err: String(err) }),
            ),
        );
      }
    }
  }

  /** Stops dispatching (leadership lost or shutdown); running executions keep their records. */
  stopLeading(): void {
    this.leading = false;
    this.leases.clear();
    if (this.leaseTimer) this.deps.clock.clearTimeout(this.leaseTimer);
    for (const t of this.timers) this.deps.clock.clearTimeout(t);
    this.timers.clear();
  }

  /** Executions running now (for /v1/busy), with their live output. */
  busy(): Execution[] {
    return runningExecutions(this.deps.state)
      .sort((a, b) => a.started_at - b.started_at)
      .map((e) => ({ ...e, output: this.live.get(e.id) }));
  }

  /**
   * Starts a run of a job (a new group) on the targets its tags select now. A run with no target
   * is recorded as a failed execution rather than dropped. `owed` is the mark of the owed
   * dependent run this start settles.
   */
  async run(jobName: string, trigger: Trigger, scheduledAt: number, owed?: number): Promise<ApplyResult> {
    const job = getStoredJob(this.deps.state, jobName);
    if (!job) throw new AppError("NOT_FOUND", `job "${jobName}" not found`, { field: "job" });
    const group = this.nextGroup();
    const targets = selectTargets(this.deps.hub.candidates(), job.spec.tags, this.deps.random);
    const executions: ExecutionStartCommand["executions"] = targets.length
      ? targets.map((t) => ({ id: executionId(group, 1, t.name), node: t.name }))
      : [
          {
            id: executionId(group, 1, "none"),
            node: "",
            state: "failed",
            output: `no target nodes found to run job ${jobName} (tags ${JSON.stringify(job.spec.tags ?? {})}; connected runners: ${
              this.deps.hub
                .candidates()
                .map((c) => c.name)
                .join(", ") || "none"
            })`,
          },
        ];
    return this.propose({
      type: "execution.start",
      at: this.deps.clock.now(),
      job: jobName,
      group,
      trigger,
      attempt: 1,
      scheduledAt,
      retain: this.opts.retain,
      executions,
      ...(owed === undefined ? {} : { owed }),
    });
  }

  /** Records a slot that was deliberately not run (catch-up policy); `note` says why. */
  recordMissed(jobName: string, scheduledAt: number, note: string): Promise<ApplyResult> {
    const group = this.nextGroup();
    return this.propose({
      type: "execution.start",
      at: this.deps.clock.now(),
      job: jobName,
      group,
      trigger: "schedule",
      attempt: 1,
      scheduledAt,
      retain: this.opts.retain,
      executions: [{ id: executionId(group, 1, "missed"), node: "", state: "missed", output: note }],
    });
  }

  // ---- runner events (from the hub) ----

  /** Hub handler: a runner connected and listed what it holds. */
  onHello(session: RunnerSession, hello: Hello): string[] {
    const now = this.deps.clock.now();
    const unknown: string[] = [];
    for (const id of hello.running) {
      const lease = this.leases.get(id);
      if (lease) lease.deadline = now + this.opts.leaseMs;
      else unknown.push(id);
    }
    if (this.leading) this.redispatchInherited(session.name, hello, now);
    return unknown;
  }

  /** Whether an inherited execution provably never reached its (connected) runner. */
  private mayResend(e: Execution): boolean {
    const info = this.runnerInfo.get(e.node_name);
    if (!info || !this.deps.hub.isConnected(e.node_name) || info.known.has(e.id)) return false;
    // Control nodes' clocks may differ a little; only a runner clearly up before the start counts.
    return info.upSince < e.started_at - 1000;
  }

  /**
   * A start committed just before a leader change may never have reached its runner. If the
   * runner does not hold or know it and has been up since before it started (so a restart did not
   * wipe its memory of running it), it cannot have run it: send it now instead of letting it go
   * `lost`. Otherwise the lease decides — never a second run.
   */
  private redispatchInherited(runner: string, hello: Hello, now: number): void {
    const known = new Set([
      ...hello.running,
      ...hello.seen,
      ...hello.pending_results.map((r) => r.execution_id),
    ]);
    this.runnerInfo.set(runner, { upSince: now - hello.uptime_ms, known });
    const owed = runningExecutions(this.deps.state).filter(
      (e) => e.node_name === runner && this.mayResend(e),
    );
    if (!owed.length) return;
    // After the welcome frame (the hub sends it when onHello returns).
    this.later(0, () => {
      for (const e of owed) {
        this.deps.logger.info("re-sending an execution the runner never received", {
          execution: e.id,
          runner,
        });
        this.send(e);
      }
    });
  }

  /** Hub handler: the runner still holds these executions. */
  onHeld(_runner: string, ids: string[]): void {
    const deadline = this.deps.clock.now() + this.opts.leaseMs;
    for (const id of ids) {
      const lease = this.leases.get(id);
      if (lease) lease.deadline = deadline;
    }
  }

  /** Hub handler: a chunk of live output. */
  onOutput(runner: string, out: Output): void {
    this.live.append(out.execution_id, out.seq, out.data);
    this.onHeld(runner, [out.execution_id]);
  }

  /** Hub handler: an execution finished; commit it, then acknowledge it to the runner. */
  onResult(runner: string, r: Result): void {
    if (!this.leading) return;
    this.propose({
      type: "execution.finish",
      at: this.deps.clock.now(),
      id: r.execution_id,
      state: r.success ? "success" : "failed",
      success: r.success,
      output: r.error && !r.output.startsWith(r.error) ? `${r.error}\n${r.output}` : r.output,
      exitCode: r.exit_code,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
    })
      .then((res) => {
        // Acknowledge committed and unknown (deleted/pruned) results alike, so the runner forgets them.
        if (res.ok || res.error.code === "NOT_FOUND")
          this.deps.hub.send(runner, { type: "result_ack", execution_id: r.execution_id });
      })
      .catch((e) =>
        this.deps.logger.warn("could not commit a result; the runner will resend it", {
          execution: r.execution_id,
          err: String(e),
        }),
      );
  }

  /** Hub handler: nothing to do at once; the lease decides. */
  onDisconnect(_runner: string): void {}

  // ---- after commit ----

  private onEvent(ev: FsmEvent): void {
    if (ev.kind === "execution.started") {
      for (const e of ev.executions) {
        if (e.state !== "running") continue;
        if (this.ownStarts.delete(e.id) || this.mayResend(e)) this.send(e);
        // Otherwise: the previous leader may have dispatched it; its runner reports it, or the lease ends it.
        else
          this.leases.set(e.id, { node: e.node_name, deadline: this.deps.clock.now() + this.opts.leaseMs });
      }
    } else if (ev.kind === "execution.finished") {
      this.leases.delete(ev.execution.id);
      this.live.delete(ev.execution.id);
      this.afterFinish(ev);
    } else if (ev.kind === "dependent.owed") {
      this.startOwed(ev.run);
    }
  }

  private send(e: Execution): void {
    const job = getStoredJob(this.deps.state, e.job_name);
    this.leases.set(e.id, { node: e.node_name, deadline: this.deps.clock.now() + this.opts.leaseMs });
    if (!job) return;
    const sent = this.deps.hub.send(e.node_name, {
      type: "run",
      execution_id: e.id,
      job_name: e.job_name,
      scheduled_at: new Date(e.scheduled_at).toISOString(),
      attempt: e.attempt,
      executor: job.spec.executor,
      config: job.spec.executor_config ?? {},
    });
    if (!sent)
      this.deps.logger.warn("target runner is not connected; the lease will expire", {
        execution: e.id,
        runner: e.node_name,
      });
  }

  /**
   * Schedules the retry of a failed attempt. A successful group's dependent runs and ephemeral
   * delete are not done here: apply did them in the state (`dependent.owed`, `job.deleted`).
   */
  private afterFinish(ev: Extract<FsmEvent, { kind: "execution.finished" }>): void {
    const e = ev.execution;
    if (!ev.retry) return;
    const wait = retryBackoffMs((e.finished_at ?? e.started_at) - e.started_at, e.attempt);
    this.later(
      wait,
      () =>
        void this.retry(e).catch((err) =>
          this.deps.logger.warn("retry failed to start", { job: e.job_name, err: String(err) }),
        ),
    );
  }

  /** Starts the next attempt of a failed execution: on the same runner if it is still here. */
  private async retry(failed: Execution): Promise<void> {
    if (!this.leading) return;
    const job = getStoredJob(this.deps.state, failed.job_name);
    if (!job) return;
    let node = failed.node_name;
    if (!this.deps.hub.isConnected(node)) {
      const pool = selectTargets(this.deps.hub.candidates(), job.spec.tags, this.deps.random);
      node = pool[Math.floor(this.deps.random() * pool.length)]?.name ?? "";
    }
    const attempt = failed.attempt + 1;
    // The id names the target the run started on, not the runner the retry lands on: two failures
    // retried on the same runner would otherwise share an id and the second retry would be lost.
    const prefix = `${failed.group}-${failed.attempt}-`;
    const target = failed.id.startsWith(prefix) ? failed.id.slice(prefix.length) : failed.node_name || "none";
    const id = executionId(failed.group, attempt, target);
    await this.propose({
      type: "execution.start",
      at: this.deps.clock.now(),
      job: failed.job_name,
      group: failed.group,
      trigger: "retry",
      attempt,
      scheduledAt: failed.scheduled_at,
      retain: this.opts.retain,
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
    });
  }

  private later(ms: number, fn: () => void): void {
    const t = this.deps.clock.setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private armLeaseCheck(): void {
    if (!this.leading) return;
    this.leaseTimer = this.deps.clock.setTimeout(
      () => {
        const now = this.deps.clock.now();
        for (const [id, lease] of this.leases) {
          if (lease.deadline > now) continue;
          this.leases.delete(id);
          const e = findExecution(this.deps.state, id);
          if (e?.state !== "running") continue;
          this.deps.logger.warn("execution lost: its runner stopped reporting", {
            execution: id,
            runner: lease.node,
          });
          void this.propose({
            type: "execution.finish",
            at: now,
            id,
            state: "lost",
            success: false,
            output:
              `${this.live.get(id)}\nlost: runner "${lease.node}" stopped reporting this execution for ${Math.round(this.opts.leaseMs / 1000)}s`.trimStart(),
            exitCode: null,
            finishedAt: now,
          }).catch(() => undefined);
        }
        this.armLeaseCheck();
      },
      Math.max(100, Math.min(1000, this.opts.leaseMs / 4)),
    );
  }

  private async propose(cmd: Parameters<Consensus["propose"]>[0]): Promise<ApplyResult> {
    // Starts this leader proposes are dispatched on commit; others (inherited) only by the rule
    // in redispatchInherited.
    if (cmd.type !== "execution.start") return this.deps.consensus.propose(cmd);
    for (const x of cmd.executions) this.ownStarts.add(x.id);
    try {
      return await this.deps.consensus.propose(cmd);
    } finally {
      // The commit's event (delivered before the proposal resolves) took the ids it dispatched;
      // any left were not started (rejected, skipped, already recorded) or the outcome is unknown.
      for (const x of cmd.executions) this.ownStarts.delete(x.id);
    }
  }

  private nextGroup(): number {
    // Dkron's group is a nanosecond timestamp; ms*1000 plus a counter keeps ids unique and ordered.
    this.lastGroup = Math.max(this.deps.clock.now() * 1000, this.lastGroup + 1);
    return this.lastGroup;
  }
}

/** The id of one execution: group, attempt and target node (a retry keeps the first attempt's target). */
export function executionId(group: number, attempt: number, node: string): string {
  return `${group}-${attempt}-${node}`;
}

function findExecution(state: StateDb, id: string): Execution | undefined {
  const row = state.sqlite.prepare("select job_name from executions where id = ?").get(id) as
    | { job_name: string }
    | undefined;
  return row ? getExecution(state, row.job_name, id) : undefined;
}
