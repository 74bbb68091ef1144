import { dirname } from "node:path";
import { Authenticator, mintToken } from "../../control/auth";
import { PeerBook } from "../../control/cluster/peer-book";
import type { RaftConsensus } from "../../control/consensus/raft-consensus";
import { Dispatcher, type DispatcherOptions } from "../../control/dispatch/dispatcher";
import type { Command, ResultOf } from "../../control/fsm/commands";
import { ControlService } from "../../control/http/control-service";
import type { RunnerSession, Runners } from "../../control/hub/runner-sessions";
import { Scheduler } from "../../control/scheduler/scheduler";
import type { StateDb } from "../../control/store/db";
import { listExecutions } from "../../control/store/execution-queries";
import { getStoredJob } from "../../control/store/job-queries";
import type { StoredJob } from "../../control/store/rows";
import type { Execution } from "../../shared/execution";
import type { JobInput } from "../../shared/job";
import { silentLogger } from "../../shared/logger";
import type { Candidate } from "../../shared/tags";
import type { ControlMessage, Result, Run } from "../../shared/wire";
import { jobSpec, T0 } from "./builders";
import { FakeClock } from "./fake-clock";
import { type OneVoter, openOneVoter } from "./one-voter";
import { tempDir } from "./tmp";

/**
 * Stands in for RunnerHub: the runners "connected" are names with tags, and every frame sent to
 * them is recorded. It is the one part that cannot run on virtual time (real WebSockets are
 * covered by the integration tests); the test answers runs through `ControlHarness.finish`.
 */
export class FakeHub implements Runners {
  /** Every frame the dispatcher sent, in order. */
  readonly sent: { runner: string; msg: ControlMessage }[] = [];
  private readonly runners = new Map<string, Record<string, string>>();

  connect(name: string, tags: Record<string, string> = {}): void {
    this.runners.set(name, tags);
  }

  disconnect(name: string): void {
    this.runners.delete(name);
  }

  candidates(): Candidate[] {
    return [...this.runners].map(([name, tags]) => ({ name, tags }));
  }

  connected(): Candidate[] {
    return this.candidates();
  }

  sessions(): RunnerSession[] {
    return [...this.runners].map(([name, tags]) => ({ name, tags, addr: "", connectedAt: 0, lastSeen: 0 }));
  }

  isConnected(name: string): boolean {
    return this.runners.has(name);
  }

  reserve(): () => void {
    return () => {};
  }

  send(runner: string, msg: ControlMessage): boolean {
    if (!this.runners.has(runner)) return false;
    this.sent.push({ runner, msg });
    return true;
  }

  /** `run` frames sent so far (optionally to one runner). */
  runs(runner?: string): (Run & { runner: string })[] {
    return this.sent.flatMap((s) =>
      s.msg.type === "run" && (runner === undefined || s.runner === runner)
        ? [{ ...s.msg, runner: s.runner }]
        : [],
    );
  }

  /** Execution ids acknowledged with `result_ack`. */
  acks(): string[] {
    return this.sent.flatMap((s) => (s.msg.type === "result_ack" ? [s.msg.execution_id] : []));
  }
}

/** Harness options. */
export interface HarnessOptions {
  /** Virtual start time (default T0). */
  start?: number;
  /**
   * The node's state.db; raft.db goes beside it (default: both in a temporary directory removed on
   * close). Reopen the same file to restart the node.
   */
  file?: string;
  /** Runners connected at the start (default ["r1"]). */
  runners?: string[];
  dispatcher?: Partial<DispatcherOptions>;
  /** Start the scheduler with the consensus (default true); false leaves it to `startScheduler`. */
  scheduler?: boolean;
  /** "tokens" checks API tokens as a node does by default; "off" (default here) is --insecure-no-auth. */
  auth?: "tokens" | "off";
  /** How long audit records are kept (default 90 days, as a node). */
  auditRetentionMs?: number;
  /**
   * The runners the dispatcher and API use instead of `hub` (a real RunnerSessions over sockets the
   * test fakes, for capacity and targeting as the node does them); `runners` is then ignored.
   */
  sessions?: Runners;
}

/**
 * The one-node control plane on virtual time: the real one-voter RaftConsensus over real SQLite
 * files (as a single node runs it), a real Dispatcher and Scheduler wired as the node wires them, a
 * FakeHub and a FakeClock.
 */
export class ControlHarness {
  readonly clock: FakeClock;
  readonly hub = new FakeHub();
  readonly state: StateDb;
  readonly consensus: RaftConsensus;
  readonly dispatcher: Dispatcher;
  readonly scheduler: Scheduler;
  /** The control-api service over this node, as the API reaches it (jobs.get, executions.list, ...). */
  readonly service: ControlService;
  /** The service's token checks (mode from HarnessOptions.auth). */
  readonly auth: Authenticator;

  private constructor(
    private readonly node: OneVoter,
    clock: FakeClock,
    opts: HarnessOptions,
    private readonly cleanup: () => void,
  ) {
    this.clock = clock;
    this.state = node.state;
    this.consensus = node.raft;
    for (const r of opts.runners ?? ["r1"]) this.hub.connect(r);
    this.dispatcher = new Dispatcher(
      {
        consensus: this.consensus,
        state: this.state,
        runners: opts.sessions ?? this.hub,
        clock: this.clock,
        logger: silentLogger,
        random: () => 0,
      },
      { retain: 100, leaseMs: 30_000, ...opts.dispatcher },
    );
    this.scheduler = new Scheduler({
      state: this.state,
      clock: this.clock,
      logger: silentLogger,
      dispatcher: this.dispatcher,
      consensus: this.consensus,
    });
    this.auth = new Authenticator({ state: this.state, clock: this.clock, mode: opts.auth ?? "off" });
    let serial = 0;
    this.service = new ControlService({
      auth: this.auth,
      // Distinct, deterministic "random" strings: token ids and secrets differ per call.
      secret: () => `s${String(++serial).padStart(4, "0")}${"x".repeat(40)}`,
      auditRetentionMs: opts.auditRetentionMs ?? 90 * 86_400_000,
      state: this.state,
      consensus: this.consensus,
      dispatcher: this.dispatcher,
      runners: opts.sessions ?? this.hub,
      clock: this.clock,
      peers: new PeerBook(this.state),
      node: { name: "control-1", version: "test", advertise: "127.0.0.1:8080", tags: {} },
      leave: () => {},
    });
    this.consensus.onLeadership((leader) => {
      if (!leader) {
        this.scheduler.stop();
        this.dispatcher.stopLeading();
      }
    });
  }

  /** Builds and starts a harness (consensus, dispatcher and, unless told otherwise, the scheduler). */
  static async start(opts: HarnessOptions = {}): Promise<ControlHarness> {
    const clock = new FakeClock(opts.start ?? T0);
    const tmp = opts.file ? undefined : tempDir("dkron-harness-");
    const dir = opts.file ? dirname(opts.file) : tmp!.path;
    // A lone voter elects itself at once; 100 ms ticks (the default profile) keep long virtual
    // advances cheap.
    const node = await openOneVoter(dir, clock, undefined, { id: "control-1", tickMs: 100 });
    const h = new ControlHarness(node, clock, opts, () => tmp?.cleanup());
    h.dispatcher.startLeading();
    if (opts.scheduler !== false) h.scheduler.start();
    await h.settle();
    return h;
  }

  /** Starts the scheduler now (slots before now were missed by "whoever led before"). */
  async startScheduler(): Promise<void> {
    this.scheduler.start();
    await this.settle();
  }

  /**
   * Lets proposals, commits and their follow-ups run without moving virtual time; timers due now
   * (zero-delay ones) fire, as real ones would.
   */
  /** Creates an admin token as a first start does (through the log) and returns it. */
  async adminToken(): Promise<string> {
    const n = ++this.minted;
    const { id, token, hash } = mintToken(() => `adm${String(n).padStart(13, "0")}${"y".repeat(40)}`);
    const res = await this.consensus.propose({
      type: "token.create",
      at: this.clock.now(),
      id,
      name: `admin-${n}`,
      hash,
      scopes: ["admin"],
      prefix: "",
      expiresAt: null,
      createdBy: "bootstrap",
    });
    if (!res.ok) throw new Error(res.error.message);
    return token;
  }
  private minted = 0;

  async settle(rounds = 20): Promise<void> {
    for (let i = 0; i < rounds; i++) {
      this.clock.advance(0);
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Moves virtual time forward; async work progresses between steps of `stepMs`. */
  async advance(ms: number, stepMs = 1000): Promise<void> {
    await this.clock.advanceAsync(ms, stepMs);
    await this.settle();
  }

  /** Moves virtual time to an absolute instant. */
  async advanceTo(at: number, stepMs = 1000): Promise<void> {
    if (at > this.clock.now()) await this.advance(at - this.clock.now(), stepMs);
  }

  /** Proposes a command stamped now and waits for it to be applied. */
  async propose<C extends Command>(cmd: C): Promise<ResultOf<C>> {
    const res = this.consensus.propose(cmd);
    await this.settle();
    return res;
  }

  /** Creates or replaces a job (jobSpec defaults), stamped now; throws if rejected. */
  async put(over: Partial<JobInput> = {}): Promise<void> {
    const res = await this.propose({ type: "job.put", at: this.clock.now(), job: jobSpec(over) });
    if (!res.ok) throw new Error(`job.put rejected: ${res.error.message}`);
  }

  /** A runner acknowledges a run it started at `startedAt` (omitted: an older runner's bare ack). */
  async ack(id: string, startedAt?: number): Promise<void> {
    const runner = this.hub.runs().find((r) => r.execution_id === id)?.runner ?? "r1";
    this.dispatcher.onAck(runner, {
      type: "ack",
      execution_id: id,
      ...(startedAt === undefined ? {} : { started_at: startedAt }),
    });
    await this.settle();
  }

  /** A runner reports the result of an execution (defaults: success, started and finished now). */
  async finish(id: string, over: Partial<Result> = {}): Promise<void> {
    const runner = this.hub.runs().find((r) => r.execution_id === id)?.runner ?? "r1";
    const now = this.clock.now();
    const success = over.success ?? true;
    this.dispatcher.onResult(runner, {
      type: "result",
      execution_id: id,
      success,
      output: success ? "ok\n" : "boom\n",
      exit_code: success ? 0 : 1,
      started_at: now,
      finished_at: now,
      ...over,
    });
    await this.settle();
  }

  /** Executions of a job, oldest first. */
  executions(job = "job"): Execution[] {
    return listExecutions(this.state, job, "started_at", "ASC");
  }

  /** A stored job, or undefined. */
  job(name = "job"): StoredJob | undefined {
    return getStoredJob(this.state, name);
  }

  /** Stops everything and closes the database. */
  async close(): Promise<void> {
    this.scheduler.stop();
    this.dispatcher.stopLeading();
    await this.node.close();
    this.cleanup();
  }
}
