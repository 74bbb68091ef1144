import { quorum } from "../../control/raft/config-change";
import type { RaftNode } from "../../control/raft/core";
import type { Entry } from "../../control/raft/messages";

/** A broken Raft safety property, found by the simulator. */
export class SafetyViolation extends Error {
  override name = "SafetyViolation";
}

/** What the checker needs to see of one simulated node. */
export interface ObservedNode {
  id: string;
  raft: RaftNode | null;
  store: { covers(index: number, term: number): boolean };
}

/**
 * Raft's safety properties, checked incrementally after every simulator step:
 * election safety (≤ 1 leader per term), log matching (an (index, term) pair names one entry and one
 * predecessor, which by induction makes equal pairs imply equal prefixes), leader completeness (a new
 * leader holds every entry committed so far), state-machine safety (one entry committed per index,
 * replicas equal at equal applied indexes) and "committed ⇒ durable on a quorum" (etcd #14370).
 * Applied-exactly-once is enforced by KvStateMachine, which refuses anything but applied + 1.
 */
export class RaftInvariants {
  private leaders = new Map<number, string>();
  private entries = new Map<string, { type: string; data: string; prevTerm: number }>();
  private committed: number[] = [];
  /** The term of the node that first reported each index committed: the term it was committed in. */
  private committedIn: number[] = [];
  private maxCommitted = 0;
  private fingerprints: string[] = [];
  private commitSeen = new Map<string, number>();
  private leaderSeen = new Set<string>();
  private leaderCommitChecked = new Map<string, number>();

  /** Highest index any node has reported committed. */
  get highestCommitted(): number {
    return this.maxCommitted;
  }

  /** Log matching, for entries a node hands to its storage. */
  onHanded(node: string, ents: Entry[], prevTerm: number): void {
    let prev = prevTerm;
    for (const e of ents) {
      const key = `${e.index}:${e.term}`;
      const seen = this.entries.get(key);
      if (!seen) {
        this.entries.set(key, { type: e.type, data: e.data, prevTerm: prev });
      } else if (seen.data !== e.data || seen.type !== e.type || seen.prevTerm !== prev) {
        throw new SafetyViolation(
          `log matching: ${node} has entry ${key} (prev term ${prev}) unlike another node's (prev term ${seen.prevTerm})`,
        );
      }
      prev = e.term;
    }
  }

  /** State-machine safety for one applied entry and the replica state after it. */
  onApply(node: string, e: Entry, fingerprint: string, nodeTerm: number): void {
    this.recordCommitted(node, e.index, e.term, nodeTerm);
    const seen = this.entries.get(`${e.index}:${e.term}`);
    if (seen && seen.data !== e.data)
      throw new SafetyViolation(`${node} applied a different ${e.index}:${e.term}`);
    this.recordFingerprint(node, e.index, fingerprint);
  }

  /** State-machine safety for a snapshot restore. */
  onRestore(node: string, index: number, term: number, fingerprint: string, nodeTerm: number): void {
    this.recordCommitted(node, index, term, nodeTerm);
    this.recordFingerprint(node, index, fingerprint);
  }

  /** Forgets a node's commit cursor (it restarted; its durable commit index was checked before). */
  onRestart(node: string, commit: number): void {
    this.commitSeen.set(node, commit);
  }

  /** The per-step checks over all running nodes. */
  afterStep(nodes: readonly ObservedNode[]): void {
    for (const n of nodes) {
      const r = n.raft;
      if (!r) continue;
      this.checkCommitView(n.id, r);
      if (r.role === "leader") {
        this.checkLeader(n.id, r);
        this.checkLeaderCommit(n, r, nodes);
      }
    }
  }

  private checkCommitView(id: string, r: RaftNode): void {
    const seen = this.commitSeen.get(id) ?? 0;
    const commit = r.commitIndex;
    if (commit <= seen) return;
    for (let i = seen + 1; i <= commit; i++) {
      const t = r.termAt(i);
      if (t !== undefined) this.recordCommitted(id, i, t, r.term);
    }
    this.commitSeen.set(id, commit);
  }

  private recordCommitted(node: string, index: number, term: number, inTerm: number): void {
    const t = this.committed[index];
    if (t === undefined) {
      this.committed[index] = term;
      this.committedIn[index] = inTerm;
      if (index > this.maxCommitted) this.maxCommitted = index;
    } else if (t !== term) {
      throw new SafetyViolation(
        `state machine safety: ${node} committed ${index}:${term} but ${index}:${t} was committed`,
      );
    }
  }

  private recordFingerprint(node: string, index: number, fp: string): void {
    const seen = this.fingerprints[index];
    if (seen === undefined) this.fingerprints[index] = fp;
    else if (seen !== fp)
      throw new SafetyViolation(
        `replicas differ at applied index ${index}: ${node} has {${fp}}, another {${seen}}`,
      );
  }

  private checkLeader(id: string, r: RaftNode): void {
    const key = `${id}:${r.term}`;
    if (this.leaderSeen.has(key)) return;
    const other = this.leaders.get(r.term);
    if (other !== undefined && other !== id) {
      throw new SafetyViolation(`election safety: ${id} and ${other} both lead term ${r.term}`);
    }
    this.leaders.set(r.term, id);
    this.leaderSeen.add(key);
    // Leader completeness covers entries committed in earlier terms. A leader of an old term can
    // win late (a paused candidate counting votes granted long ago) after later terms committed more.
    let c = this.maxCommitted;
    while (c > 0 && (this.committedIn[c] ?? Number.POSITIVE_INFINITY) >= r.term) c--;
    const want = this.committed[c];
    if (c === 0 || want === undefined) return;
    const have = c > r.lastIndex ? undefined : r.termAt(c);
    if (c > r.lastIndex || (have !== undefined && have !== want)) {
      throw new SafetyViolation(
        `leader completeness: ${id} leads term ${r.term} without committed entry ${c}:${want} (has ${have ?? "nothing"} there, last ${r.lastIndex})`,
      );
    }
  }

  /**
   * Committed ⇒ durable on a quorum of the voters the leader counted. The leader's membership changes
   * inside ready(), so the driver also calls this just before ready(), while the commit index and the
   * membership it was computed with still belong together.
   */
  checkLeaderCommit(n: ObservedNode, r: RaftNode, nodes: readonly ObservedNode[]): void {
    if (r.role !== "leader") return;
    const key = `${n.id}:${r.term}`;
    const c = r.commitIndex;
    const checked = this.leaderCommitChecked.get(key);
    if (checked === undefined) {
      // The commit index a leader starts with was checked when an earlier leader advanced it (under
      // the membership of that moment, which may differ from today's).
      this.leaderCommitChecked.set(key, c);
      return;
    }
    if (checked >= c) return;
    this.leaderCommitChecked.set(key, c);
    const term = r.termAt(c);
    if (term === undefined) return;
    const voters = r.conf.voters;
    let durable = 0;
    for (const v of voters) {
      const node = nodes.find((x) => x.id === v);
      if (node?.store.covers(c, term)) durable++;
    }
    if (durable < quorum(voters.length)) {
      throw new SafetyViolation(
        `${n.id} committed ${c}:${term} in term ${r.term} but only ${durable}/${voters.length} voters have it durable`,
      );
    }
  }
}
