import type { Clock, Logger, TimerHandle } from "../../shared";
import { AppError } from "../../shared";
import type { Command, ResultOf } from "../fsm";
import { type ApplyResult, apply, isStorageFault, lastApplied } from "../fsm";
import type { HardState, LogStore, Message, RaftTunablesInput, Random } from "../raft";
import { type ConfChangeRequest, persistBatch, RaftNode, type Ready } from "../raft";
import type { StateDb } from "../store";
import { restoreStateSnapshot, takeStateSnapshot } from "../store";
import type { AppliedListener, Consensus, ConsensusStatus } from "./consensus";

/** Dependencies of the Raft-backed consensus. */
export interface RaftConsensusDeps {
  id: string;
  state: StateDb;
  log: LogStore;
  /** Sends messages to peers (fire and forget; Raft retransmits). */
  send: (msgs: Message[]) => void;
  clock: Clock;
  logger: Logger;
  random: Random;
  /** Milliseconds per Raft tick (election timeout = electionTicks × tickMs). */
  tickMs: number;
  tunables: RaftTunablesInput;
  /** Initial voters of a brand-new cluster; omitted by nodes that join an existing one. */
  bootstrap?: string[];
  /** How long a proposal may wait for its commit before the caller hears TIMEOUT. */
  proposeTimeoutMs?: number;
  /**
   * Takes snapshots off the event loop into files the log store records (a node's real stores);
   * without it a snapshot is serialized in place (in-memory stores in tests).
   */
  snapshots?: SnapshotFiles;
}

/** Where snapshots are written off the event loop (StateSnapshotWriter) and read back (the log store). */
export interface SnapshotFiles {
  take(): Promise<{ index: number; file: string }>;
  discard(file: string): void;
  read(file: string): string;
}

interface Pending {
  /** Takes the result of the proposed command (typed by it at `propose`). */
  resolve: (r: ApplyResult) => void;
  reject: (e: unknown) => void;
  timer: TimerHandle;
  term: number;
}

/**
 * What an entry's data holds: the proposer's id for the proposal and the command. The id is unique
 * only within one run of a node (its counter restarts with the process), so a waiting proposal is
 * found by the term and index of the entry it appended instead (`entryKey`).
 */
interface EntryData {
  p: string;
  c: Command;
}

/**
 * Consensus over the Raft core: drives ticks, persists each Ready in one SQLite transaction before
 * its acknowledgements leave, applies committed entries to the state tables (with last_applied in
 * the same transaction), takes and installs state snapshots, and resolves proposals and ReadIndex
 * reads once applied here.
 */
export class RaftConsensus implements Consensus {
  /** The core, from `start` on (it is built from what the log store holds). */
  private node: RaftNode | undefined;
  /** Waiting proposals by `entryKey` of the entry each appended. */
  private readonly pending = new Map<string, Pending>();
  private readonly reads = new Map<
    string,
    { index: number | null; resolve: () => void; reject: (e: unknown) => void; timer: TimerHandle }
  >();
  private readonly appliedListeners = new Set<AppliedListener>();
  private readonly leaderListeners = new Set<(l: boolean) => void>();
  /** Leadership changes not told to listeners yet, in order (see `tellLeadership`). */
  private readonly leadershipNews: boolean[] = [];
  private readonly confListeners = new Set<() => void>();
  private tickTimer: TimerHandle | undefined;
  private drainScheduled = false;
  private seq = 0;
  private running = false;
  private leading = false;
  private applied = 0;
  /** Fsynced log writes and the entries in them (status: entries per fsync shows the group commit). */
  private syncs = 0;
  private syncedEntries = 0;
  /** A snapshot is being written off the event loop (one at a time). */
  private snapshotting = false;
  /** A higher commit index not written yet: it goes out with the next write that has to happen anyway. */
  private unsavedHard: HardState | undefined;

  constructor(private readonly d: RaftConsensusDeps) {}

  /** Starts the node; `bootstrap` gives the voters of a brand-new cluster (ignored once it has state). */
  async start(bootstrap?: string[]): Promise<void> {
    const stored = this.d.log.load();
    let applied = lastApplied(this.d.state);
    // A crash between persisting a snapshot and restoring the state from it: restore now.
    if (stored.snapshot && applied < stored.snapshot.meta.index) {
      restoreStateSnapshot(this.d.state, stored.snapshot.data);
      applied = lastApplied(this.d.state);
    }
    this.applied = applied;
    this.node = new RaftNode({
      id: this.d.id,
      storage: stored,
      applied,
      ...((bootstrap ?? this.d.bootstrap) ? { bootstrap: bootstrap ?? this.d.bootstrap } : {}),
      random: this.d.random,
      ...this.d.tunables,
    });
    this.running = true;
    this.scheduleTick();
    this.drain();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.tickTimer) this.d.clock.clearTimeout(this.tickTimer);
    if (this.unsavedHard) {
      try {
        this.d.log.save({ entries: [], discardLog: false, sync: true, hardState: this.unsavedHard });
      } catch (e) {
        this.d.logger.warn("could not record the commit index on stop", { err: String(e) });
      }
      this.unsavedHard = undefined;
    }
    this.failPending(new AppError("UNAVAILABLE", "node is shutting down"));
    this.flushLeadership();
    if (this.leading) {
      this.leading = false;
      for (const l of this.leaderListeners) l(false);
    }
  }

  /** Hands messages from a peer to the core. */
  receive(msgs: readonly Message[]): void {
    if (!this.running) return;
    for (const m of msgs) this.core.step(m);
    this.scheduleDrain();
  }

  propose<C extends Command>(cmd: C): Promise<ResultOf<C>> {
    if (!this.running) return Promise.reject(new AppError("UNAVAILABLE", "node is not running"));
    if (this.core.role !== "leader") return Promise.reject(this.notLeader());
    const p = `${this.d.id}:${++this.seq}`;
    const r = this.core.propose(JSON.stringify({ p, c: cmd } satisfies EntryData));
    if (!r.ok)
      return Promise.reject(
        r.reason === "no-leader"
          ? this.notLeader()
          : new AppError("UNAVAILABLE", `proposal refused: ${r.reason}`),
      );
    // A leader appends at its own term; no other entry ever holds that term and index, whereas an
    // entry an earlier run of this node wrote (uncommitted) may hold the same proposal id `p`.
    const key = r.index === null ? `unappended:${p}` : entryKey(this.core.term, r.index);
    return new Promise<ResultOf<C>>((resolve, reject) => {
      const timer = this.d.clock.setTimeout(() => {
        this.pending.delete(key);
        reject(
          new AppError("TIMEOUT", "the write was not committed in time; its outcome is unknown", {
            outcome: "unknown",
          }),
        );
      }, this.d.proposeTimeoutMs ?? 10_000);
      // The entry holding this proposal is above `applied` when it applies (never a replay), and
      // apply answers each command with its own result type.
      this.pending.set(key, {
        resolve: (r) => resolve(r as ResultOf<C>),
        reject,
        timer,
        term: this.core.term,
      });
      this.scheduleDrain();
    });
  }

  /** Waits until this node has applied everything committed when the call was made (ReadIndex). */
  readBarrier(): Promise<void> {
    if (!this.running) return Promise.reject(new AppError("UNAVAILABLE", "node is not running"));
    const ctx = `${this.d.id}:r${++this.seq}`;
    if (!this.core.readIndex(ctx)) return Promise.reject(this.notLeader());
    return new Promise((resolve, reject) => {
      const timer = this.d.clock.setTimeout(() => {
        this.reads.delete(ctx);
        reject(
          new AppError(
            "NO_QUORUM",
            "could not confirm leadership with a quorum for a linearizable read; retry or use ?stale=true",
          ),
        );
      }, this.d.proposeTimeoutMs ?? 10_000);
      this.reads.set(ctx, { index: null, resolve, reject, timer });
      this.scheduleDrain();
    });
  }

  /** Proposes a membership change (leader only). */
  changeMembership(req: ConfChangeRequest): void {
    if (this.core.role !== "leader") throw this.notLeader();
    const r = this.core.proposeConfChange(req);
    if (!r.ok) throw new AppError("CONFLICT", `membership change refused: ${r.reason}`);
    this.scheduleDrain();
  }

  /** Starts an election now (a lone voter elects itself at once instead of after a timeout). */
  campaign(): void {
    if (!this.running) return;
    this.core.campaign();
    this.scheduleDrain();
  }

  /** Hands leadership to another voter (leader only). */
  transferLeadership(to: string): boolean {
    const ok = this.core.transferLeadership(to);
    this.scheduleDrain();
    return ok;
  }

  /** Voters and learners of the current configuration. */
  conf(): { voters: string[]; learners: string[] } {
    const c = this.core.conf;
    return { voters: [...c.voters], learners: [...c.learners] };
  }

  /** Called after a membership change is applied. */
  onConf(listener: () => void): () => void {
    this.confListeners.add(listener);
    return () => this.confListeners.delete(listener);
  }

  /** Replication progress on the leader. */
  raftStatus() {
    return this.core.status();
  }

  isLeader(): boolean {
    return this.running && this.core.role === "leader";
  }

  status(): ConsensusStatus {
    if (!this.node)
      return {
        state: "shutdown",
        term: 0,
        leader: "",
        commitIndex: 0,
        appliedIndex: 0,
        lastLogIndex: 0,
        snapshotIndex: 0,
        logSyncs: 0,
        logSyncedEntries: 0,
      };
    const s = this.core.status();
    const learner = s.conf.learners.includes(this.d.id);
    return {
      state: !this.running
        ? "shutdown"
        : learner
          ? "learner"
          : s.role === "leader"
            ? "leader"
            : s.role === "candidate" || s.role === "preCandidate"
              ? "candidate"
              : "follower",
      term: s.term,
      leader: s.leader ?? "",
      commitIndex: s.commitIndex,
      appliedIndex: this.applied,
      lastLogIndex: s.lastIndex,
      snapshotIndex: s.snapshotIndex,
      logSyncs: this.syncs,
      logSyncedEntries: this.syncedEntries,
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

  /** The started core; calls that need it before `start` are refused as the node not running. */
  private get core(): RaftNode {
    if (!this.node) throw new AppError("UNAVAILABLE", "node is not running");
    return this.node;
  }

  /**
   * Tells leadership listeners of a change on the next turn, in order: the callers whose proposals
   * this drain resolved act on their commits first (a start committed just before leadership moved is
   * still sent to its runner), then the listeners stop the leader-only work.
   */
  private tellLeadership(leader: boolean): void {
    this.leadershipNews.push(leader);
    if (this.leadershipNews.length === 1) setImmediate(() => this.flushLeadership());
  }

  private flushLeadership(): void {
    for (const leader of this.leadershipNews.splice(0))
      for (const l of this.leaderListeners) {
        try {
          l(leader);
        } catch (err) {
          this.d.logger.error("leadership listener failed", { err: String(err) });
        }
      }
  }

  private notLeader(): AppError {
    const leader = this.node?.leader ?? "";
    return new AppError(
      "NOT_LEADER",
      leader
        ? `this node is not the leader; the leader is ${leader}`
        : "no leader is elected yet; retry shortly",
      {
        leader,
      },
    );
  }

  private scheduleTick(): void {
    this.tickTimer = this.d.clock.setTimeout(() => {
      if (!this.running) return;
      this.core.tick();
      this.drain();
      this.scheduleTick();
    }, this.d.tickMs);
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  /** Processes every Ready the core has, in the order the core requires. */
  private drain(): void {
    while (this.running && this.core.hasReady()) {
      const rd = this.core.ready();
      if (!rd) break;
      this.handle(rd);
      this.core.advance(rd);
    }
  }

  private handle(rd: Ready): void {
    // The leader's commit notices (appends without entries) wait until the entries are applied and the
    // waiting callers answered: a socket write per follower in front of them delays the client for nothing.
    const notices = rd.committedEntries.length
      ? rd.messages.filter((m) => m.type === "app" && m.entries.length === 0)
      : [];
    const urgent = notices.length ? rd.messages.filter((m) => !notices.includes(m)) : rd.messages;
    if (urgent.length) this.d.send(urgent);
    // Durable before any vote or acknowledgement leaves: one transaction, one fsync.
    this.persist(rd);
    if (rd.restoreSnapshot && rd.snapshot) {
      restoreStateSnapshot(this.d.state, rd.snapshot.data);
      this.applied = lastApplied(this.d.state);
      this.d.logger.info("installed a snapshot from the leader", { index: rd.snapshot.meta.index });
      for (const l of this.confListeners) l();
    }
    // Acks and votes wait for the write above, not for the state machine: a follower that applied
    // the entries committed so far before acknowledging new ones held every commit back by an apply
    // (a state.db transaction with its own fsync).
    if (rd.messagesAfterPersist.length) this.d.send(rd.messagesAfterPersist);
    if (rd.committedEntries.length) this.applyEntries(rd);
    // After the callers' answers: they go out in this turn's microtasks, the notices in the next turn.
    if (notices.length) setImmediate(() => this.running && this.d.send(notices));
    for (const rs of rd.readStates) {
      const r = this.reads.get(rs.ctx);
      if (r) r.index = rs.index;
    }
    this.settleReads();
    if (rd.softState) {
      const nowLeader = rd.softState.role === "leader";
      if (nowLeader !== this.leading) {
        this.leading = nowLeader;
        if (!nowLeader) this.failPending(this.notLeader());
        this.d.logger.info(nowLeader ? "became leader" : "not leader", {
          term: this.core.term,
          leader: rd.softState.leader,
        });
        this.tellLeadership(nowLeader);
      }
    }
    if (rd.wantSnapshot) this.snapshot();
  }

  /**
   * Gives the core a snapshot of the state. With snapshot files it is written by another thread
   * while entries keep applying, and covers the index the copy itself holds (at most what was
   * handed out to apply, so the core can take it); a failed one waits for the core's next request.
   */
  private snapshot(): void {
    const files = this.d.snapshots;
    if (!files) {
      this.core.compact(this.applied, takeStateSnapshot(this.d.state));
      return;
    }
    if (this.snapshotting) return;
    this.snapshotting = true;
    files.take().then(
      ({ index, file }) => {
        this.snapshotting = false;
        // Stopped meanwhile: the store may be closed; it removes the unrecorded file when it opens.
        if (!this.running) return;
        if (!this.core.compact(index, { file, read: () => files.read(file) })) {
          files.discard(file);
          return;
        }
        this.d.logger.info("snapshot taken", { index });
        this.drain();
      },
      (err: unknown) => {
        this.snapshotting = false;
        this.d.logger.warn("snapshot failed; the log keeps growing until the next one", { err: String(err) });
      },
    );
  }

  /**
   * Writes the Ready in one transaction (one fsync). A Ready the core marks as not needing a sync
   * (`mustSync` false: only the commit index moved) is not written at all: the store could write it
   * unsynced, but even that write costs syscalls on every commit's path, leader and followers alike.
   * The commit index rides on the next batch that has to be saved anyway (and is saved on stop); a
   * node that crashes before that relearns it from the leader and never falls below its applied index.
   */
  private persist(rd: Ready): void {
    const batch = persistBatch(rd);
    if (!rd.mustSync) {
      if (batch.hardState) this.unsavedHard = batch.hardState;
      return;
    }
    if (!batch.hardState && this.unsavedHard) batch.hardState = this.unsavedHard;
    this.d.log.save(batch);
    this.unsavedHard = undefined;
    this.syncs++;
    this.syncedEntries += batch.entries.length;
  }

  private applyEntries(rd: Ready): void {
    const results: { index: number; term: number; data: EntryData | null; result: ApplyResult }[] = [];
    let confChanged = false;
    this.d.state.sqlite.transaction(() => {
      for (const e of rd.committedEntries) {
        if (e.index <= this.applied) continue;
        let data: EntryData | null = null;
        // Parsed back from the entry even on the leader that proposed it: every replica applies the
        // same bytes, whatever the proposer did with its object after proposing it.
        if (e.type === "normal" && e.data) data = JSON.parse(e.data) as EntryData;
        if (e.type === "conf") confChanged = true;
        const cmd: Command = data?.c ?? { type: "noop", at: 0 };
        let result: ApplyResult;
        try {
          result = apply(this.d.state, e.index, cmd);
        } catch (err) {
          if (isStorageFault(err)) {
            // Skipping the entry here would leave this node's state behind the others' for good. The
            // transaction rolls back and the node stops; restarted, it applies again from its log.
            this.d.logger.error(
              "the state database refused a write while applying a committed entry; stopping this node so its state cannot diverge (free disk space or repair the data dir, then restart: it applies again from its log)",
              { index: e.index, err: String(err) },
            );
            throw err;
          }
          this.d.logger.error("apply failed (bug); entry skipped", { index: e.index, err: String(err) });
          result = { ok: false, error: { code: "INTERNAL", message: String(err) } };
        }
        this.applied = e.index;
        results.push({ index: e.index, term: e.term, data, result });
      }
    })();
    // Effects only after the apply transaction committed: listeners first, then the proposer (the
    // order the Consensus interface promises).
    for (const { index, term, data, result } of results) {
      if (!data) continue;
      const key = entryKey(term, index);
      const p = this.pending.get(key);
      const entry = { index, cmd: data.c, result, origin: p ? "awaited" : "replicated" } as const;
      for (const l of this.appliedListeners) {
        try {
          l(entry);
        } catch (err) {
          this.d.logger.error("applied listener failed", { err: String(err) });
        }
      }
      if (p) {
        this.pending.delete(key);
        this.d.clock.clearTimeout(p.timer);
        p.resolve(result);
      }
    }
    if (confChanged) for (const l of this.confListeners) l();
  }

  private settleReads(): void {
    for (const [ctx, r] of this.reads) {
      if (r.index !== null && r.index <= this.applied) {
        this.reads.delete(ctx);
        this.d.clock.clearTimeout(r.timer);
        r.resolve();
      }
    }
  }

  private failPending(err: AppError): void {
    for (const [p, x] of this.pending) {
      this.d.clock.clearTimeout(x.timer);
      // The entry may still commit under the next leader, so the outcome is unknown. Not NOT_LEADER:
      // clients follow that to the leader and send again, which could apply the write twice.
      x.reject(
        new AppError(
          "TIMEOUT",
          `${err.message}; the write was not confirmed and may or may not have been committed: check before retrying`,
          { outcome: "unknown" },
        ),
      );
      this.pending.delete(p);
    }
    for (const [ctx, r] of this.reads) {
      this.d.clock.clearTimeout(r.timer);
      r.reject(err);
      this.reads.delete(ctx);
    }
  }
}

/** The key of a waiting proposal: the term and index of its entry, which no other entry shares. */
function entryKey(term: number, index: number): string {
  return `${term}:${index}`;
}
