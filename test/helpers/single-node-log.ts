// Only the adoption test still uses this: it writes a data dir the way single nodes did before they ran
// as a one-voter Raft group. It goes once that test builds the old data dir from its migrations.
import { asc, gt, lte } from "drizzle-orm";
import type { AppliedListener, Consensus, ConsensusStatus } from "../../control/consensus/consensus";
import { type ApplyResult, apply, lastApplied } from "../../control/fsm/apply";
import type { Command, ResultOf } from "../../control/fsm/commands";
import type { StateDb } from "../../control/store/db";
import { commandLog } from "../../control/store/schema";
import { AppError } from "../../shared/errors";
import type { Logger } from "../../shared/logger";

interface Pending {
  cmd: Command;
  resolve: (r: ApplyResult) => void;
  reject: (e: unknown) => void;
}

/** Log entries kept behind last_applied (the state tables are the snapshot). */
const KEEP_APPLIED = 1000;

/**
 * A test double of consensus for the virtual-time control harness: one node, every proposal appended
 * to the command log table and committed (fsync) before it is applied, in batches; a restart replays
 * entries after last_applied. Real SQLite and the real apply, without Raft's ticks, so scheduler and
 * dispatcher tests can advance virtual hours cheaply. Production nodes, single or clustered, run
 * RaftConsensus (a single node is a one-voter group).
 */
export class SingleNodeLog implements Consensus {
  private queue: Pending[] = [];
  private flushing = false;
  private lastIndex = 0;
  private applied = 0;
  private running = false;
  private readonly appliedListeners = new Set<AppliedListener>();
  private readonly leaderListeners = new Set<(l: boolean) => void>();

  constructor(
    private readonly state: StateDb,
    private readonly deps: { nodeName: string; logger: Logger },
  ) {}

  /** Replays committed entries not yet applied, then accepts proposals. */
  async start(): Promise<void> {
    this.applied = lastApplied(this.state);
    const rows = this.state.db
      .select()
      .from(commandLog)
      .where(gt(commandLog.index, this.applied))
      .orderBy(asc(commandLog.index))
      .all();
    for (const row of rows) {
      const result = apply(this.state, row.index, JSON.parse(row.command) as Command);
      this.applied = row.index;
      if (!result.ok)
        this.deps.logger.debug("replayed entry was rejected", { index: row.index, code: result.error.code });
    }
    const last = this.state.db
      .select({ i: commandLog.index })
      .from(commandLog)
      .orderBy(asc(commandLog.index))
      .all()
      .at(-1);
    this.lastIndex = Math.max(this.applied, last?.i ?? 0);
    if (rows.length)
      this.deps.logger.info("replayed command log", { entries: rows.length, applied: this.applied });
    this.running = true;
    for (const l of this.leaderListeners) l(true);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    while (this.flushing) await new Promise((r) => setImmediate(r));
    for (const p of this.queue.splice(0)) p.reject(new AppError("UNAVAILABLE", "node is shutting down"));
    for (const l of this.leaderListeners) l(false);
  }

  propose<C extends Command>(cmd: C): Promise<ResultOf<C>> {
    if (!this.running) return Promise.reject(new AppError("UNAVAILABLE", "node is not running"));
    return new Promise((resolve, reject) => {
      this.queue.push({ cmd, resolve: (r) => resolve(r as ResultOf<C>), reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    try {
      this.flushBatches();
    } catch (e) {
      // The log could not be written (disk full, I/O error): nothing in the queue was acknowledged.
      this.deps.logger.error("command log write failed", { err: String(e) });
      for (const p of this.queue.splice(0))
        p.reject(new AppError("UNAVAILABLE", `state could not be written: ${String(e)}`));
    } finally {
      this.flushing = false;
    }
  }

  private flushBatches(): void {
    while (this.queue.length) {
      const batch = this.queue.splice(0, 512);
      const first = this.lastIndex + 1;
      // One transaction (one fsync) makes the whole batch durable before anything is applied.
      try {
        this.state.sqlite.transaction(() => {
          batch.forEach((p, i) => {
            this.state.db
              .insert(commandLog)
              .values({ index: first + i, term: 1, command: JSON.stringify(p.cmd) })
              .run();
          });
        })();
      } catch (e) {
        for (const p of batch)
          p.reject(new AppError("UNAVAILABLE", `state could not be written: ${String(e)}`));
        throw e;
      }
      this.lastIndex = first + batch.length - 1;
      // Apply the batch in one transaction too (each apply is a savepoint inside it), and only
      // after it committed tell anyone: no side effect ever runs ahead of durable state.
      const outcomes: ({ ok: true; result: ApplyResult } | { ok: false; error: unknown })[] = [];
      this.state.sqlite.transaction(() => {
        batch.forEach((p, i) => {
          try {
            outcomes.push({ ok: true, result: apply(this.state, first + i, p.cmd) });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        });
      })();
      this.applied = this.lastIndex;
      batch.forEach((p, i) => {
        const o = outcomes[i]!;
        if (!o.ok) {
          p.reject(o.error);
          return;
        }
        for (const l of this.appliedListeners) {
          try {
            l({ index: first + i, cmd: p.cmd, result: o.result, origin: "awaited" });
          } catch (e) {
            this.deps.logger.error("applied listener failed", { err: String(e) });
          }
        }
        p.resolve(o.result);
      });
      if (this.applied % 256 < batch.length) this.compact();
    }
  }

  /** Drops log entries well behind last_applied: the state tables already hold their effect. */
  private compact(): void {
    const upTo = this.applied - KEEP_APPLIED;
    if (upTo > 0) this.state.db.delete(commandLog).where(lte(commandLog.index, upTo)).run();
  }

  /** One node applies everything it commits before answering: reads are always current. */
  async readBarrier(): Promise<void> {}

  isLeader(): boolean {
    return this.running;
  }

  status(): ConsensusStatus {
    return {
      state: this.running ? "leader" : "shutdown",
      term: 1,
      leader: this.running ? this.deps.nodeName : "",
      commitIndex: this.lastIndex,
      appliedIndex: this.applied,
      lastLogIndex: this.lastIndex,
    };
  }

  onApplied(listener: AppliedListener): () => void {
    this.appliedListeners.add(listener);
    return () => this.appliedListeners.delete(listener);
  }

  onLeadership(listener: (leader: boolean) => void): () => void {
    this.leaderListeners.add(listener);
    return () => this.leaderListeners.delete(listener);
  }
}
