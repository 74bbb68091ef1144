import { applyConfChange, cloneConf, decodeConfChange, emptyConf, encodeConfChange } from "./config-change";
import { checkTerm, handleVoteRequest, handleVoteResp, hup, tickElection, tickLeader } from "./election";
import { RaftLog } from "./log";
import {
  applyConfEntry,
  type ConfChangeRequest,
  maybeAutoPromote,
  type ProposeResult,
  proposeConfChange,
} from "./membership";
import type { ConfState, Entry, HardState, Message } from "./messages";
import { type RaftTunablesInput, resolveTunables } from "./options";
import type { Random } from "./random";
import { requestReadIndex } from "./read-index";
import type { ReadState } from "./read-only";
import type { RaftStatus, Ready, SoftState } from "./ready";
import {
  bcastAppend,
  handleAppend,
  handleAppResp,
  handleHeartbeat,
  handleHeartbeatResp,
  handleSnapResp,
  onCommitAdvanced,
  sendAppend,
} from "./replication";
import { handleSnapChunk, takeSnapshot } from "./snapshot-transfer";
import { RaftState, type Role } from "./state";
import type { SnapshotFile, StoredState } from "./storage-types";

/** Entries applied since the last snapshot request before the log's size alone asks for another. */
const MIN_ENTRIES_PER_SNAPSHOT = 16;

export { type PeerProgress, persistBatch, type RaftStatus, type Ready, type SoftState } from "./ready";
export type { ConfChangeRequest, ProposeResult, ReadState, Role };

/** Options for a RaftNode: identity, what its LogStore loaded, and the tunables (see options.ts). */
export interface RaftNodeOptions extends RaftTunablesInput {
  id: string;
  /** What the node's LogStore returned from load(). */
  storage: StoredState;
  /**
   * The state machine's durable applied index. The driver must first restore the state machine from
   * `storage.snapshot` if it is behind it (a crash between persisting and restoring a snapshot).
   */
  applied?: number;
  /** Initial voters for a brand-new cluster; ignored unless storage is empty. Joining nodes omit it. */
  bootstrap?: string[];
  /** The only source of randomness (election timeouts), seeded so simulations replay. */
  random: Random;
}

/**
 * A Raft node as a deterministic state machine in the style of etcd/raft: no I/O, no timers, no
 * randomness of its own. Feed it `tick()`, `step(msg)` and client calls; drain `ready()`; report
 * back with `advance()`. Between `ready()` and `advance()` the node may keep stepping.
 */
export class RaftNode {
  private readonly s: RaftState;
  private inflight: Ready | null = null;
  private prevSoft: SoftState;
  private prevHard: HardState;

  constructor(opts: RaftNodeOptions) {
    const { id, storage, applied, bootstrap, random, ...tunables } = opts;
    const cfg = resolveTunables(tunables);
    const snapshot = storage.snapshot ?? { meta: { index: 0, term: 0, conf: emptyConf() }, data: "" };
    const hs = storage.hardState;
    const log = new RaftLog(
      storage.logStart,
      [...storage.entries],
      hs.commit,
      applied ?? snapshot.meta.index,
    );
    let term = hs.term;
    const fresh = hs.term === 0 && storage.entries.length === 0 && storage.snapshot === null;
    if (fresh && bootstrap && bootstrap.length > 0) {
      // Every founding member writes the same first entry, so their logs agree from index 1.
      term = 1;
      log.append([
        { index: 1, term: 1, type: "conf", data: encodeConfChange({ type: "bootstrap", voters: bootstrap }) },
      ]);
      log.commitTo(1);
    }
    // Membership: the snapshot's, then every committed conf entry after it (they are re-applied
    // idempotently; the state machine may lag the commit index after a crash).
    let conf = cloneConf(snapshot.meta.conf);
    let confIndex = snapshot.meta.index;
    const history: { index: number; conf: ConfState }[] = [];
    for (const e of log.slice(Math.max(snapshot.meta.index, log.start.index) + 1, log.commit + 1) ?? []) {
      if (e.type !== "conf") continue;
      conf = applyConfChange(conf, decodeConfChange(e.data));
      confIndex = e.index;
      history.push({ index: e.index, conf: cloneConf(conf) });
    }
    this.s = new RaftState(id, cfg, random, log, { term, vote: hs.vote, conf, snapshot, confIndex });
    if (history.length > 0)
      this.s.confHistory = [{ index: snapshot.meta.index, conf: snapshot.meta.conf }, ...history];
    this.s.becomeFollower(term, null);
    this.prevSoft = { role: "follower", leader: null };
    this.prevHard = { ...hs };
  }

  /** This node's id. */
  get id(): string {
    return this.s.id;
  }

  /** Current role. */
  get role(): Role {
    return this.s.role;
  }

  /** Current term. */
  get term(): number {
    return this.s.term;
  }

  /** The leader this node follows (itself when leader), or null. */
  get leader(): string | null {
    return this.s.lead;
  }

  /** Highest index known committed. */
  get commitIndex(): number {
    return this.s.log.commit;
  }

  /** Highest index the driver reported applied. */
  get appliedIndex(): number {
    return this.s.log.applied;
  }

  /** Last index in the log (durable or not). */
  get lastIndex(): number {
    return this.s.log.lastIndex();
  }

  /** Term of the entry at index, if the node still holds it. */
  termAt(index: number): number | undefined {
    return this.s.log.term(index);
  }

  /** The membership this node acts on (a copy). */
  get conf(): ConfState {
    return cloneConf(this.s.conf);
  }

  /** Status for the node's status API. */
  status(): RaftStatus {
    const s = this.s;
    const st: RaftStatus = {
      id: s.id,
      role: s.role,
      term: s.term,
      leader: s.lead,
      commitIndex: s.log.commit,
      appliedIndex: s.log.applied,
      lastIndex: s.log.lastIndex(),
      snapshotIndex: s.snapshot.meta.index,
      conf: { voters: [...s.conf.voters], learners: [...s.conf.learners] },
    };
    if (s.role === "leader") {
      st.progress = {};
      for (const [id, pr] of s.progress)
        st.progress[id] = { match: pr.match, next: pr.next, state: pr.state };
    }
    return st;
  }

  /** Advances logical time by one tick. */
  tick(): void {
    const s = this.s;
    s.ticks++;
    if (s.role === "leader") {
      tickLeader(s);
      if (s.role === "leader" && s.heartbeatElapsed === 0) maybeAutoPromote(s);
    } else {
      tickElection(s);
    }
  }

  /** Feeds one message from another node. Throws RaftInvariantError if it reveals a safety violation. */
  step(m: Message): void {
    const s = this.s;
    if (m.to !== s.id || !checkTerm(s, m)) return;
    switch (m.type) {
      case "preVote":
      case "vote":
        handleVoteRequest(s, m);
        return;
      case "prop":
        if (s.role === "leader" && m.entries.every((e) => e.type === "normal"))
          this.proposeEntries(m.entries);
        return;
      case "readIndex":
        if (s.role === "leader") requestReadIndex(s, m.ctx, m.from);
        return;
    }
    if (s.role === "leader") {
      if (m.type === "appResp") handleAppResp(s, m);
      else if (m.type === "heartbeatResp") handleHeartbeatResp(s, m);
      else if (m.type === "snapResp") handleSnapResp(s, m);
      return;
    }
    if (m.type === "voteResp" || m.type === "preVoteResp") {
      handleVoteResp(s, m);
      return;
    }
    if (m.type === "app" || m.type === "heartbeat" || m.type === "snap") {
      // Same term (checkTerm handled higher): whoever sends these is the term's one leader.
      if (s.role !== "follower") s.becomeFollower(s.term, m.from);
      s.electionElapsed = 0;
      s.lead = m.from;
      if (m.type === "app") handleAppend(s, m);
      else if (m.type === "heartbeat") handleHeartbeat(s, m);
      else handleSnapChunk(s, m);
      return;
    }
    if (m.type === "timeoutNow" && s.role === "follower") hup(s, true);
    else if (m.type === "readIndexResp" && s.role === "follower")
      s.readStates.push({ index: m.index, ctx: m.ctx });
  }

  /** Proposes a state-machine command; a follower forwards it to the leader. */
  propose(data: string): ProposeResult {
    const s = this.s;
    if (s.role === "leader") {
      if (s.leadTransferee !== null) return { ok: false, reason: "transferring" };
      const [e] = this.proposeEntries([{ type: "normal", data }]);
      return { ok: true, index: e?.index ?? null };
    }
    if (s.role !== "follower" || s.lead === null) return { ok: false, reason: "no-leader" };
    s.send({ type: "prop", from: s.id, to: s.lead, term: 0, entries: [{ type: "normal", data }] });
    return { ok: true, index: null };
  }

  private proposeEntries(items: { type: Entry["type"]; data: string }[]): Entry[] {
    const s = this.s;
    if (s.leadTransferee !== null || !s.progress.has(s.id)) return [];
    const ents = s.appendLocal(items);
    s.needsBcast = true;
    return ents;
  }

  /** Starts a linearizable read; its ReadState (carrying ctx) arrives in a later Ready. False if dropped. */
  readIndex(ctx: string): boolean {
    return requestReadIndex(this.s, ctx, this.s.id);
  }

  /** Leader only: proposes one membership change. */
  proposeConfChange(req: ConfChangeRequest): ProposeResult {
    return proposeConfChange(this.s, req);
  }

  /** Leader only: hands leadership to a voter once its log is caught up (TimeoutNow). */
  transferLeadership(to: string): boolean {
    const s = this.s;
    if (s.role !== "leader" || to === s.id || !s.isVoter(to)) return false;
    if (s.leadTransferee === to) return true;
    s.leadTransferee = to;
    // The transfer must finish within one election timeout or it is abandoned.
    s.electionElapsed = 0;
    const pr = s.progress.get(to);
    if (pr && pr.match === s.log.lastIndex()) s.send({ type: "timeoutNow", from: s.id, to, term: s.term });
    else sendAppend(s, to);
    return true;
  }

  /** Starts an election now (tests and operators); no-op for leaders and non-voters. */
  campaign(): void {
    hup(this.s, false);
  }

  /**
   * Takes a state-machine snapshot the driver made at `index` (at most what it has been handed to
   * apply; it may be older, made while later entries applied) and compacts the log behind it. The
   * data is a string or a file the store records as is. False if stale.
   */
  compact(index: number, data: string | SnapshotFile): boolean {
    return takeSnapshot(this.s, index, data);
  }

  /** Whether ready() would return something. */
  hasReady(): boolean {
    if (this.inflight) return false;
    const s = this.s;
    return (
      s.needsBcast ||
      s.msgs.length > 0 ||
      s.msgsAfterPersist.length > 0 ||
      s.readStates.length > 0 ||
      s.pendingInstall !== null ||
      s.pendingCompaction !== null ||
      s.log.handed < s.log.lastIndex() ||
      s.log.applying < s.log.commit ||
      s.role !== this.prevSoft.role ||
      s.lead !== this.prevSoft.leader ||
      !sameHard(this.hardState(), this.prevHard) ||
      this.wantsSnapshot()
    );
  }

  /** Collects everything the driver must do; null if nothing. Call advance() before the next ready(). */
  ready(): Ready | null {
    if (this.inflight) throw new Error("ready() called before advance() of the previous Ready");
    const s = this.s;
    if (s.needsBcast && s.role === "leader") bcastAppend(s);
    s.needsBcast = false;
    if (!this.hasReady()) return null;
    const committedEntries = s.log.toApply();
    for (const e of committedEntries) {
      // Conf entries replayed at start-up are already in effect.
      const lastConf = s.confHistory.at(-1)?.index ?? 0;
      if (e.type === "conf" && e.index > lastConf) applyConfEntry(s, e);
    }
    if (s.needsBcast && s.role === "leader") bcastAppend(s);
    s.needsBcast = false;
    const last = committedEntries.at(-1);
    if (last) s.log.applying = last.index;
    const rd: Ready = {
      entries: s.log.unhanded(),
      restoreSnapshot: false,
      committedEntries,
      readStates: s.readStates,
      messages: s.msgs,
      messagesAfterPersist: s.msgsAfterPersist,
      wantSnapshot: this.wantsSnapshot(),
      mustSync: false,
    };
    if (rd.wantSnapshot) s.snapshotAskedAt = s.log.applying;
    if (s.role !== this.prevSoft.role || s.lead !== this.prevSoft.leader) {
      rd.softState = { role: s.role, leader: s.lead };
      this.prevSoft = rd.softState;
    }
    const hs = this.hardState();
    if (!sameHard(hs, this.prevHard)) {
      rd.mustSync = hs.term !== this.prevHard.term || hs.vote !== this.prevHard.vote;
      rd.hardState = hs;
      this.prevHard = hs;
    }
    if (s.pendingInstall) {
      rd.snapshot = s.pendingInstall;
      rd.restoreSnapshot = true;
      rd.compact = s.log.start;
    } else if (s.pendingCompaction) {
      rd.snapshot = s.pendingCompaction.snapshot;
      rd.compact = s.log.start;
    }
    if (rd.entries.length > 0 || rd.snapshot) rd.mustSync = true;
    s.pendingInstall = null;
    s.pendingCompaction = null;
    s.log.handed = s.log.lastIndex();
    s.msgs = [];
    s.msgsAfterPersist = [];
    s.readStates = [];
    this.inflight = rd;
    return rd;
  }

  /** Reports that the driver finished everything a Ready asked for. */
  advance(rd: Ready): void {
    if (rd !== this.inflight) throw new Error("advance() with a Ready that is not the outstanding one");
    this.inflight = null;
    const s = this.s;
    if (rd.hardState) s.durableTerm = rd.hardState.term;
    if (rd.snapshot && rd.restoreSnapshot) s.log.applied = Math.max(s.log.applied, rd.snapshot.meta.index);
    const lastEntry = rd.entries.at(-1);
    if (lastEntry) s.log.stableTo(lastEntry);
    const lastApplied = rd.committedEntries.at(-1);
    if (lastApplied) s.log.applied = Math.max(s.log.applied, lastApplied.index);
    if (s.role === "leader") {
      const self = s.progress.get(s.id);
      if (self) self.match = Math.max(self.match, s.log.stable);
      if (s.maybeCommit()) onCommitAdvanced(s);
    }
  }

  private hardState(): HardState {
    return { term: this.s.term, vote: this.s.vote, commit: this.s.log.commit };
  }

  private wantsSnapshot(): boolean {
    const s = this.s;
    const t = s.cfg.snapshotThreshold;
    if (t === 0) return false;
    const applying = Math.max(s.log.applying, s.log.commit);
    const since = applying - Math.max(s.snapshot.meta.index, s.snapshotAskedAt);
    if (since >= t) return true;
    // By size too; a few entries at least since the last ask, so entries not yet applied (which no
    // snapshot can drop) do not make it ask on every Ready.
    const c = s.cfg.snapshotThresholdChars;
    return c > 0 && since >= MIN_ENTRIES_PER_SNAPSHOT && s.log.heldChars() >= c;
  }
}

function sameHard(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
