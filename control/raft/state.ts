import { cloneConf, quorumIndex } from "./config-change";
import type { RaftLog } from "./log";
import type { ConfState, Entry, Message, Snapshot, SnapshotMeta } from "./messages";
import type { RaftTunables } from "./options";
import { Progress } from "./progress";
import type { Random } from "./random";
import { ReadOnly, type ReadState } from "./read-only";

/** A node's role. A pre-candidate is polling with pre-votes and has not bumped its term yet. */
export type Role = "follower" | "preCandidate" | "candidate" | "leader";

/** Messages the leader may send before its own write of the same Ready is durable (thesis §10.2.1). */
const EARLY = new Set<Message["type"]>(["app", "heartbeat", "snap", "timeoutNow"]);

/** A snapshot being received chunk by chunk. */
export interface IncomingSnapshot {
  meta: SnapshotMeta;
  from: string;
  term: number;
  chunks: string[];
  length: number;
}

/** A locally produced snapshot (and the log prefix it lets go) waiting to be persisted. */
export interface LocalCompaction {
  snapshot: Snapshot;
  compactIndex: number;
}

/**
 * All mutable state of one node. The handler modules (election, replication, snapshot transfer,
 * membership, reads) are functions over it; RaftNode is the facade. Keeping the fields in one plain
 * class lets those modules stay small without inheritance.
 */
export class RaftState {
  role: Role = "follower";
  term: number;
  vote: string | null;
  lead: string | null = null;
  conf: ConfState;
  /** Membership in effect after each conf entry handed out for applying, oldest first (for snapshots). */
  confHistory: { index: number; conf: ConfState }[];
  /** The latest snapshot this node holds (metadata and data), the one it sends to lagging followers. */
  snapshot: Snapshot;
  progress = new Map<string, Progress>();
  votes = new Map<string, boolean>();
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  /** Ticks since start; only ever compared with itself. */
  ticks = 0;
  leadTransferee: string | null = null;
  /** The last pre-vote granted to a higher-ranked voter, so this node's own timeout can defer to it. */
  preVoteGrant: { term: number; tick: number } | null = null;
  /** A leader proposes no conf change while one at or below this index is still unapplied. */
  pendingConfIndex = 0;
  readonly readOnly = new ReadOnly();
  /** Reads that arrived before the leader committed an entry of its own term. */
  pendingReads: { ctx: string; from: string }[] = [];
  readStates: ReadState[] = [];
  msgs: Message[] = [];
  msgsAfterPersist: Message[] = [];
  /** The term of the last hard state the driver reported durable. */
  durableTerm: number;
  incoming: IncomingSnapshot | null = null;
  /** A leader's snapshot installed in memory, to be persisted and restored by the driver. */
  pendingInstall: Snapshot | null = null;
  pendingCompaction: LocalCompaction | null = null;
  /** Applied index at which the core last asked the driver for a snapshot. */
  snapshotAskedAt = 0;
  /** New proposals wait here so one append per follower carries all of them (batching). */
  needsBcast = false;

  constructor(
    readonly id: string,
    readonly cfg: RaftTunables,
    readonly random: Random,
    readonly log: RaftLog,
    init: { term: number; vote: string | null; conf: ConfState; snapshot: Snapshot; confIndex: number },
  ) {
    this.term = init.term;
    this.vote = init.vote;
    this.durableTerm = init.term;
    this.conf = init.conf;
    this.snapshot = init.snapshot;
    this.confHistory = [{ index: init.confIndex, conf: cloneConf(init.conf) }];
    this.resetRandomizedElectionTimeout();
  }

  /** Whether id is a voter in the membership this node acts on. */
  isVoter(id: string): boolean {
    return this.conf.voters.includes(id);
  }

  /** Voters and learners other than this node. */
  peers(): string[] {
    return [...this.conf.voters, ...this.conf.learners].filter((p) => p !== this.id);
  }

  /** Only voters start elections; a learner or a removed node never does. */
  promotable(): boolean {
    return this.isVoter(this.id);
  }

  /** Queues a message, holding back anything that depends on this node's not-yet-durable state. */
  send(m: Message): void {
    const early =
      m.type === "prop" ||
      m.type === "readIndex" ||
      (this.role === "leader" && this.durableTerm === this.term && EARLY.has(m.type));
    (early ? this.msgs : this.msgsAfterPersist).push(m);
  }

  resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.cfg.electionTicks + this.random.int(this.cfg.electionTicks);
  }

  /** Clears per-term volatile state; a new term also clears the vote. */
  reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = null;
    }
    this.lead = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = null;
    this.votes = new Map();
    this.progress = new Map();
    for (const id of [...this.conf.voters, ...this.conf.learners]) this.addProgress(id);
    this.pendingConfIndex = 0;
    this.readOnly.reset();
    this.pendingReads = [];
  }

  /** Starts tracking a member from just past the leader's last entry (it will probe backwards). */
  addProgress(id: string): void {
    if (this.progress.has(id)) return;
    const pr = new Progress(this.log.lastIndex() + 1, this.cfg.maxInflight);
    if (id === this.id) {
      pr.match = this.log.stable;
      pr.becomeReplicate();
      pr.next = this.log.lastIndex() + 1;
    }
    this.progress.set(id, pr);
  }

  becomeFollower(term: number, lead: string | null): void {
    this.reset(term);
    this.role = "follower";
    this.lead = lead;
  }

  becomePreCandidate(): void {
    // Term and vote stay: a pre-vote round must leave no trace if it fails.
    this.votes = new Map();
    this.lead = null;
    this.role = "preCandidate";
  }

  becomeCandidate(): void {
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = "candidate";
  }

  /** Takes leadership and appends the no-op that lets it commit (and serve reads) in its own term. */
  becomeLeader(): void {
    this.reset(this.term);
    this.lead = this.id;
    this.role = "leader";
    // No conf change until everything in the log at election time, the no-op included, is applied
    // (the fix for the single-server membership bug in Ongaro's thesis).
    this.pendingConfIndex = this.log.lastIndex() + 1;
    this.appendLocal([{ type: "normal", data: "" }]);
  }

  /** Leader-side append of new proposals at the current term. */
  appendLocal(items: { type: Entry["type"]; data: string }[]): Entry[] {
    let index = this.log.lastIndex();
    const ents = items.map((it) => ({ index: ++index, term: this.term, type: it.type, data: it.data }));
    this.log.append(ents);
    const self = this.progress.get(this.id);
    if (self) self.next = index + 1;
    return ents;
  }

  /**
   * The commit rule: the highest index durable on a quorum of voters (the leader counts only what it
   * has persisted itself), and only if that entry is from the leader's current term (Raft §5.4.2);
   * earlier entries commit indirectly with it.
   */
  maybeCommit(): boolean {
    const mci = quorumIndex(this.conf.voters, (id) =>
      id === this.id ? this.log.stable : (this.progress.get(id)?.match ?? 0),
    );
    if (mci > this.log.commit && this.log.term(mci) === this.term) {
      this.log.commitTo(mci);
      return true;
    }
    return false;
  }

  /** Whether the leader has committed an entry of its own term (needed before ReadIndex is safe). */
  committedInTerm(): boolean {
    return this.log.term(this.log.commit) === this.term;
  }

  /** Sends a heartbeat; commit is capped at what the follower is known to hold. */
  sendHeartbeat(to: string, readSeq: number): void {
    const pr = this.progress.get(to);
    const commit = Math.min(pr?.match ?? 0, this.log.commit);
    this.send({ type: "heartbeat", from: this.id, to, term: this.term, commit, readSeq });
  }

  /** Heartbeats every peer, carrying the newest pending read so lost confirmations are retried. */
  bcastHeartbeat(readSeq = this.readOnly.lastSeq()): void {
    for (const p of this.peers()) this.sendHeartbeat(p, readSeq);
  }

  /** Hands confirmed reads to whoever asked: this node's Ready, or a follower. */
  deliverReads(reads: { index: number; ctx: string; from: string }[]): void {
    for (const r of reads) {
      if (r.from === this.id) this.readStates.push({ index: r.index, ctx: r.ctx });
      else
        this.send({
          type: "readIndexResp",
          from: this.id,
          to: r.from,
          term: this.term,
          ctx: r.ctx,
          index: r.index,
        });
    }
  }

  /** Membership as of index (for a snapshot taken there). */
  confAt(index: number): ConfState {
    let c = this.confHistory[0]?.conf ?? this.conf;
    for (const h of this.confHistory) {
      if (h.index <= index) c = h.conf;
      else break;
    }
    return cloneConf(c);
  }
}
