import type {
  Ack,
  Clock,
  Execution,
  Hello,
  Logger,
  NotRunState,
  Output,
  Result,
  TimerHandle,
  Trigger,
} from "../../shared";
import { AppError, parseTargetTags, qualifying } from "../../shared";
import { type Consensus, eventsOf } from "../consensus";
import type {
  AuditStamp,
  Command,
  CommandResult,
  ExecutionFinishCommand,
  ExecutionStartCommand,
  FsmEvent,
  ResultOf,
} from "../fsm";
import type { RunnerEvents, RunnerSession, Runners } from "../hub";
import type { OwedRun, StateDb, StoredJob } from "../store";
import { executionPayload, getStoredJob, isOwed, owedRuns, runningExecutions, statements } from "../store";
import { retryBackoffMs } from "./backoff";
import { Leases, lostFinish } from "./leases";
import { LiveOutput, resultOutput } from "./live-output";
import { nextGroup, planMissed, planRetry, planRun, runFrame, toDispatch } from "./start-plan";
import { type StartReport, StartReports } from "./start-reports";
import {
  mayResend,
  owedRetries,
  owedRunWait,
  RESUME_WAIT_MS,
  type RunnerMemory,
  runnerMemory,
} from "./takeover";
import { roundsByKey, TurnBatch } from "./turn-batch";

/** Dispatcher settings (resolved from the node config). */
export interface DispatcherOptions {
  /** Executions kept per job. */
  retain: number;
  /** A running execution no runner has reported for this long is marked lost. */
  leaseMs: number;
  /**
   * Starts runners report (acks) are committed in batches this often (default 1000 ms); a run that
   * finishes sooner records its start with its finish instead.
   */
  startReportMs?: number;
}

/** Dependencies of the dispatcher. */
export interface DispatcherDeps {
  consensus: Consensus;
  state: StateDb;
  runners: Runners;
  clock: Clock;
  logger: Logger;
  random: () => number;
}

/** What a start may carry beyond its plan: who asked (audit), a webhook delivery's body and mark. */
export type RunExtra = Pick<ExecutionStartCommand, "payload" | "delivery"> & { audit?: AuditStamp };

/** The result of a start: what the scheduler and the API hear back. */
export type StartResult = CommandResult<"execution.start">;

/** The result of a finish. */
type FinishResult = CommandResult<"execution.finish">;

/**
 * Starts runs and follows them to the end. A start is planned (start-plan.ts), proposed as
 * `execution.start`, and once its commit is awaited here the runs go to their runners; each runner's
 * result is proposed as `execution.finish`, and its commit drives retries (with Dkron's back-off)
 * and the dependent runs the state says are owed. Only entries nobody on this node awaited (starts
 * and finishes a previous leader proposed) arrive through the applied listener. Executions whose
 * runner stops reporting become `lost` after a lease, so a `forbid` job is never blocked forever.
 * The `execution.*` commands are proposed here only.
 */
export class Dispatcher implements RunnerEvents {
  readonly live = new LiveOutput();
  private readonly leases: Leases;
  private readonly starts: StartReports;
  private leaseTimer: TimerHandle | undefined;
  private lastGroup = 0;
  /** Per connected runner: since when its process is up, and the executions it said it knows. */
  private readonly memories = new Map<string, RunnerMemory>();
  private leading = false;
  /** When this node last became leader (runners are still reconnecting for a while after). */
  private leadingSince = 0;
  /**
   * Whether this leader has applied everything committed before its term. Until then a running
   * execution a runner reports may be a start this node has in its log but not applied yet, so it is
   * not "unknown" (which tells the runner to cancel it).
   */
  private caughtUp = false;
  /** Counts leadership terms here, so a barrier from an earlier one does not mark a later one. */
  private leaderships = 0;
  private readonly timers = new Set<TimerHandle>();
  /** Proposals not settled yet (a stopping node lets them land before it closes the log). */
  private readonly inflight = new Set<Promise<unknown>>();
  /**
   * Starts proposed inside `batchStarts` (a scheduler tick fires every due job in it) go in one
   * `executions.start` entry: one entry to write, parse and apply instead of one per job. So do the
   * others of one event-loop turn: a scheduler behind by a slot starts each job's next slot when its
   * previous start commits, a thousand at once, and one entry each kept it behind for good.
   */
  private readonly startBatch = new TurnBatch<ExecutionStartCommand, StartResult>(setImmediate, (cmds) =>
    this.proposeStarts(cmds),
  );
  /** Results reported in one turn of the event loop go in one `executions.finish` entry. */
  private readonly finishBatch = new TurnBatch<ExecutionFinishCommand, FinishResult>(setImmediate, (cmds) =>
    this.proposeFinishes(cmds),
  );

  constructor(
    private readonly deps: DispatcherDeps,
    private readonly opts: DispatcherOptions,
  ) {
    this.leases = new Leases(opts.leaseMs);
    this.starts = new StartReports(deps.clock, opts.startReportMs ?? 1000, (starts) =>
      this.recordStarts(starts),
    );
    deps.consensus.onApplied((entry) => {
      if (this.leading && entry.origin === "replicated") this.afterCommit(eventsOf(entry), "inherited");
    });
  }

  /**
   * Takes over dispatch on gaining leadership: re-leases running executions, resumes retries and
   * starts the dependent runs still owed.
   */
  startLeading(): void {
    this.leading = true;
    this.caughtUp = false;
    const term = ++this.leaderships;
    this.catchUp(term);
    const now = this.deps.clock.now();
    this.leadingSince = now;
    for (const e of runningExecutions(this.deps.state)) this.leases.grant(e.id, e.node_name, now);
    for (const { failed, delayMs } of owedRetries(this.deps.state, now))
      this.later(delayMs, () => this.retry(failed));
    this.resumeOwedRuns();
    this.armLeaseCheck();
  }

  /** Marks this term caught up once a read barrier resolves; tries again while it still leads. */
  private catchUp(term: number): void {
    this.deps.consensus.readBarrier().then(
      () => {
        if (this.leading && term === this.leaderships) this.caughtUp = true;
      },
      () => {
        if (this.leading && term === this.leaderships) this.later(1000, () => this.catchUp(term));
      },
    );
  }

  /** Stops dispatching (leadership lost or shutdown); running executions keep their records. */
  stopLeading(): void {
    this.leading = false;
    this.leases.clear();
    this.starts.clear();
    if (this.leaseTimer) this.deps.clock.clearTimeout(this.leaseTimer);
    for (const t of this.timers) this.deps.clock.clearTimeout(t);
    this.timers.clear();
  }

  /**
   * Resolves once every proposal made so far has settled (committed, refused or timed out), or after
   * `maxMs`: a stopping node calls it so the results its runners reported commit before the log closes.
   */
  async quiesce(maxMs: number): Promise<void> {
    if (!this.inflight.size) return;
    let timer: TimerHandle | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = this.deps.clock.setTimeout(resolve, maxMs);
    });
    await Promise.race([Promise.allSettled([...this.inflight]), bound]);
    if (timer) this.deps.clock.clearTimeout(timer);
  }

  /** Executions running now (for /v1/busy), with their live output and reported starts. */
  busy(): Execution[] {
    return runningExecutions(this.deps.state)
      .map((e) => this.view(e))
      .sort((a, b) => a.started_at - b.started_at);
  }

  /**
   * A committed execution as this leader sees it now: a running one with its live output and, if its
   * runner reported its start and the batch is not committed yet, that start.
   */
  view(e: Execution): Execution {
    if (e.state !== "running") return e;
    const startedAt = e.start_reported ? undefined : this.starts.get(e.id);
    return {
      ...e,
      output: this.live.get(e.id),
      ...(startedAt === undefined ? {} : { started_at: startedAt, start_reported: true }),
    };
  }

  /**
   * Starts a run of a job (a new group) on the targets its tags select now and sends it to them once
   * committed. A run with no target is recorded as a failed execution rather than dropped. `owed` is
   * the mark of the owed dependent run this start settles.
   */
  async run(
    jobName: string,
    trigger: Trigger,
    scheduledAt: number,
    owed?: number,
    /** Carried on the start command: who asked for it (audit), a webhook delivery's payload and mark. */
    extra: RunExtra = {},
    /** The job as the caller just read it (the scheduler does), so a start reads it once. */
    job: StoredJob | undefined = getStoredJob(this.deps.state, jobName),
  ): Promise<StartResult> {
    if (!job) throw new AppError("NOT_FOUND", `job "${jobName}" not found`, { field: "job" });
    return this.start(
      {
        ...planRun({
          jobName,
          spec: job.spec,
          group: this.nextGroup(),
          trigger,
          scheduledAt,
          at: this.deps.clock.now(),
          retain: this.opts.retain,
          candidates: this.deps.runners.candidates(job.spec.executor),
          connected: () => this.deps.runners.connected(job.spec.executor),
          random: this.deps.random,
          ...(owed === undefined ? {} : { owed }),
        }),
        ...extra,
      },
      job.spec,
    );
  }

  /**
   * Runs `fn` (which starts runs: `run`, `recordMissed`) and proposes every start it made in one entry
   * when it returns, in the order made; each start's promise still settles with its own outcome.
   */
  batchStarts<T>(fn: () => T): T {
    return this.startBatch.hold(fn);
  }

  /** Records a slot deliberately not run (catch-up policy, or `skipped-dst`); `note` says why. */
  recordMissed(
    jobName: string,
    scheduledAt: number,
    note: string,
    state: NotRunState = "missed",
  ): Promise<StartResult> {
    return this.start(
      planMissed({
        jobName,
        group: this.nextGroup(),
        scheduledAt,
        at: this.deps.clock.now(),
        retain: this.opts.retain,
        note,
        state,
      }),
    );
  }

  // ---- runner events (RunnerEvents, reported by the hub) ----

  /**
   * A runner connected and listed what it holds; returns the ids this leader does not know (none
   * until it has caught up with what was committed before its term).
   */
  onHello(session: RunnerSession, hello: Hello): string[] {
    const now = this.deps.clock.now();
    const unknown = this.leases.renew(hello.running, now);
    if (this.leading) this.redispatchInherited(session.name, hello, now);
    return this.caughtUp ? unknown : [];
  }

  /** The runner still holds these executions. */
  onHeld(_runner: string, ids: string[]): void {
    this.leases.renew(ids, this.deps.clock.now());
  }

  /** A run started on its runner (or, re-sent, is running): queue its start to be committed. */
  onAck(runner: string, ack: Ack): void {
    this.onHeld(runner, [ack.execution_id]);
    if (!this.leading || ack.started_at === undefined) return;
    const row = statements(this.deps.state).executionById.get({ id: ack.execution_id });
    if (row?.state === "running" && !row.startReported) this.starts.report(row.id, ack.started_at);
  }

  /** A chunk of live output. */
  onOutput(runner: string, out: Output): void {
    this.live.append(out.execution_id, out.seq, out.data);
    this.onHeld(runner, [out.execution_id]);
  }

  /** An execution finished; commit it, then acknowledge it to the runner. */
  onResult(runner: string, r: Result): void {
    if (!this.leading) return;
    // The finish records the start: no separate entry for it.
    this.starts.drop(r.execution_id);
    this.finish({
      type: "execution.finish",
      at: this.deps.clock.now(),
      id: r.execution_id,
      state: r.success ? "success" : "failed",
      success: r.success,
      output: resultOutput(r),
      exitCode: r.exit_code,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
    })
      .then((res) => {
        // Acknowledge committed and unknown (deleted/pruned) results alike, so the runner forgets them.
        if (res.ok || res.error.code === "NOT_FOUND")
          this.deps.runners.send(runner, { type: "result_ack", execution_id: r.execution_id });
        else
          this.deps.logger.warn("a result was refused; the runner will resend it", {
            execution: r.execution_id,
            err: res.error.message,
          });
      })
      .catch((e) =>
        this.deps.logger.warn("could not commit a result; the runner will resend it", {
          execution: r.execution_id,
          err: String(e),
        }),
      );
  }

  /** Nothing to do at once; the lease decides. */
  onDisconnect(_runner: string): void {}

  // ---- proposing, and acting on what committed ----

  /**
   * Proposes a start (with the others of this turn, unless audited: an audit record is per entry)
   * and, once committed here, sends its runs with `spec`, the job the start was planned from. Its
   * targets' slots are held from the plan until the runs are sent (or the start fails), so the other
   * starts planned meanwhile (a scheduler tick's) see them taken and go to other runners.
   */
  private async start(
    cmd: ExecutionStartCommand & { audit?: AuditStamp },
    spec?: StoredJob["spec"],
  ): Promise<StartResult> {
    const release = this.deps.runners.reserve(plannedTargets(cmd));
    try {
      const res = await (cmd.audit ? this.commit(cmd) : this.track(this.startBatch.add(cmd)));
      if (res.ok && this.leading)
        for (const e of toDispatch(res.value))
          this.send(e, spec ? { spec, payload: cmd.payload } : undefined);
      return res;
    } finally {
      release();
    }
  }

  /**
   * One start alone as `execution.start`, several in as few `executions.start` entries as keep one
   * start per job in each (a start that fails at once settles its group and marks the dependent
   * runs it owes with its entry's index, as a finish does).
   */
  private proposeStarts(cmds: ExecutionStartCommand[]): Promise<StartResult>[] {
    return inRounds(
      cmds,
      (c) => c.job,
      (c) => this.commit(c),
      (round) => {
        const batch = this.commit({
          type: "executions.start",
          at: this.deps.clock.now(),
          starts: round.map(({ type: _, ...start }) => start),
        });
        return round.map((_, i) => batch.then((res): StartResult => (res.ok ? res.value.results[i]! : res)));
      },
    );
  }

  /**
   * Finishes of one turn in as few `executions.finish` entries as keep one finish per job in each
   * (apply marks the dependent runs a finish owes with its entry's index).
   */
  private proposeFinishes(cmds: ExecutionFinishCommand[]): Promise<FinishResult>[] {
    return inRounds(
      cmds,
      (c) => this.jobOf(c.id) ?? "",
      (c) => this.commit(c),
      (round) => {
        const batch = this.commit({
          type: "executions.finish",
          at: this.deps.clock.now(),
          finishes: round.map(({ type: _, ...finish }) => finish),
        });
        return round.map((_, i) => batch.then((res): FinishResult => (res.ok ? res.value.results[i]! : res)));
      },
    );
  }

  /** Commits a batch of reported starts; one that does not commit is recorded with its finish. */
  private recordStarts(starts: StartReport[]): void {
    if (!this.leading) return;
    this.commit({ type: "executions.started", at: this.deps.clock.now(), starts }).then(
      (res) => {
        if (!res.ok) this.deps.logger.debug("reported starts not recorded", { err: res.error.message });
      },
      (err) =>
        this.deps.logger.debug("reported starts not recorded; their finishes will carry them", {
          runs: starts.length,
          err: String(err),
        }),
    );
  }

  /** Proposes a finish (with the others of this turn); its entry's events are acted on once committed. */
  private finish(cmd: ExecutionFinishCommand): Promise<FinishResult> {
    return this.track(this.finishBatch.add(cmd));
  }

  private async commit<C extends Command>(cmd: C): Promise<ResultOf<C>> {
    const res = await this.track(this.deps.consensus.propose(cmd));
    if (res.ok) this.afterCommit(res.events, "own");
    return res;
  }

  /** The job of an execution, by its primary key (one column: a burst's finishes each ask). */
  private jobOf(id: string): string | undefined {
    this.jobOfStmt ??= this.deps.state.sqlite.prepare("select job_name from executions where id = ?").pluck();
    return this.jobOfStmt.get(id) as string | undefined;
  }
  private jobOfStmt: ReturnType<StateDb["sqlite"]["prepare"]> | undefined;

  /** Keeps `p` in the proposals a stopping node waits for until it settles. */
  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * Follows up committed events. Starts of our own were sent by `start`; an inherited start is sent
   * only when its runner provably never received it, else leased so its runner reports it or the
   * lease ends it.
   */
  private afterCommit(events: readonly FsmEvent[], origin: "own" | "inherited"): void {
    if (!this.leading) return;
    for (const ev of events) {
      if (ev.kind === "execution.started") {
        if (origin === "own") continue;
        for (const e of ev.executions) {
          if (e.state !== "running") continue;
          if (this.mayResend(e)) this.send(e);
          else this.leases.grant(e.id, e.node_name, this.deps.clock.now());
        }
      } else if (ev.kind === "execution.finished") {
        this.leases.release(ev.execution.id);
        this.live.delete(ev.execution.id);
        if (ev.retry) this.scheduleRetry(ev.execution);
      } else if (ev.kind === "dependent.owed") {
        this.startOwed(ev.run);
      }
    }
  }

  /**
   * Sends a run to its runner, leased from now. `planned` is the job and payload the start was
   * planned with (a start of our own); without it they are read from the state. A planned run goes
   * out with the spec its start was planned from: a job update that commits between the plan and
   * the start's commit (a few milliseconds) takes effect from the next run, as in Dkron, where a run
   * uses the job it was fired with.
   */
  private send(e: Execution, planned?: { spec: StoredJob["spec"]; payload: string | undefined }): void {
    this.leases.grant(e.id, e.node_name, this.deps.clock.now());
    const spec = planned ? planned.spec : getStoredJob(this.deps.state, e.job_name)?.spec;
    if (!spec) return;
    const payload = planned ? planned.payload : executionPayload(this.deps.state, e.id);
    if (!this.deps.runners.send(e.node_name, runFrame(e, spec, payload)))
      this.deps.logger.warn("target runner is not connected; the lease will expire", {
        execution: e.id,
        runner: e.node_name,
      });
  }

  // ---- retries and dependent runs ----

  /**
   * Schedules the retry of a failed attempt. A successful group's dependent runs and ephemeral
   * delete are not done here: apply did them in the state (`dependent.owed`, `job.deleted`).
   */
  private scheduleRetry(e: Execution): void {
    this.later(retryBackoffMs((e.finished_at ?? e.started_at) - e.started_at, e.attempt), () =>
      this.retry(e),
    );
  }

  /** Starts the next attempt of a failed execution: on the same runner if it is still here. */
  private retry(failed: Execution): void {
    this.startRetry(failed).catch((err) =>
      this.deps.logger.warn("retry failed to start", { job: failed.job_name, err: String(err) }),
    );
  }

  private async startRetry(failed: Execution): Promise<void> {
    if (!this.leading) return;
    const job = getStoredJob(this.deps.state, failed.job_name);
    if (!job) return;
    const cmd = planRetry({
      failed,
      spec: job.spec,
      at: this.deps.clock.now(),
      retain: this.opts.retain,
      isConnected: (n) => this.deps.runners.isConnected(n),
      candidates: this.deps.runners.candidates(job.spec.executor),
      random: this.deps.random,
      // A webhook run's retry gets the delivery's body again (not its mark: that was accepted once).
      payload: executionPayload(this.deps.state, failed.id),
    });
    await this.start(cmd, job.spec);
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
    // Just after a take-over the child's runners may not be back yet: wait for them rather than
    // record a "no target" failure.
    const tags = getStoredJob(this.deps.state, run.jobName)?.spec.tags;
    const hasTarget = qualifying(this.deps.runners.candidates(), parseTargetTags(tags).match).length > 0;
    const wait = owedRunWait(this.deps.clock.now() - this.leadingSince, hasTarget);
    if (wait > 0) {
      this.later(wait, () => this.startOwed(run));
      return;
    }
    this.run(run.jobName, "dependent", run.owedAt, run.mark).then(
      (res) => {
        if (!res.ok)
          this.deps.logger.debug("dependent run not started", { job: run.jobName, err: res.error.message });
        else if ("skipped" in res.value)
          this.deps.logger.info("dependent run skipped", {
            job: run.jobName,
            parent: run.parentJob,
            skipped: res.value.skipped,
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

  // ---- inherited starts ----

  private mayResend(e: Execution): boolean {
    return mayResend(e, this.memories.get(e.node_name), this.deps.runners.isConnected(e.node_name));
  }

  /**
   * A start committed just before a leader change may never have reached its runner: when the
   * runner's hello shows it cannot have run it (takeover.ts `mayResend`), send it now instead of
   * letting it go `lost`. Otherwise the lease decides — never a second run.
   */
  private redispatchInherited(runner: string, hello: Hello, now: number): void {
    this.memories.set(runner, runnerMemory(hello, now));
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

  // ---- leases ----

  private armLeaseCheck(): void {
    if (!this.leading) return;
    this.leaseTimer = this.deps.clock.setTimeout(() => {
      const now = this.deps.clock.now();
      const byId = statements(this.deps.state).executionById;
      for (const { id, lease } of this.leases.takeExpired(now)) {
        if (byId.get({ id })?.state !== "running") continue;
        this.deps.logger.warn("execution lost: its runner stopped reporting", {
          execution: id,
          runner: lease.node,
        });
        // A lost-finish that does not commit (a proposal timed out, a batch refused) leases the
        // execution again, so a later check tries once more: it is never left running for good.
        const again = () => {
          if (this.leading) this.leases.grant(id, lease.node, this.deps.clock.now());
        };
        void this.finish(
          lostFinish({
            id,
            node: lease.node,
            liveOutput: this.live.get(id),
            leaseMs: this.opts.leaseMs,
            now,
          }),
        ).then((res) => {
          if (!res.ok && res.error.code !== "CONFLICT" && res.error.code !== "NOT_FOUND") again();
        }, again);
      }
      this.armLeaseCheck();
    }, this.leases.checkEveryMs());
  }

  private later(ms: number, fn: () => void): void {
    const t = this.deps.clock.setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private nextGroup(): number {
    this.lastGroup = nextGroup(this.deps.clock.now(), this.lastGroup);
    return this.lastGroup;
  }
}

/** The runners a start will send runs to once it commits (its records planned as running). */
function plannedTargets(cmd: ExecutionStartCommand): string[] {
  return cmd.executions.flatMap((e) => (e.state === undefined || e.state === "running" ? [e.node] : []));
}

/**
 * Proposes items in rounds holding at most one per key (roundsByKey): a round of one as its own
 * entry (`one`), a larger one as one batch entry (`many`, a result per item). Results in input order.
 */
function inRounds<C, R>(
  cmds: C[],
  key: (c: C) => string,
  one: (c: C) => Promise<R>,
  many: (round: C[]) => Promise<R>[],
): Promise<R>[] {
  if (cmds.length === 1) return [one(cmds[0]!)];
  const results = new Map<C, Promise<R>>();
  for (const round of roundsByKey(cmds, key)) {
    const rs = round.length === 1 ? [one(round[0]!)] : many(round);
    for (const [i, c] of round.entries()) results.set(c, rs[i]!);
  }
  return cmds.map((c) => results.get(c)!);
}
