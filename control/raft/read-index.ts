import type { RaftState } from "./state";

// ReadIndex (Raft thesis §6.4): a read is linearizable once the leader (1) has committed an entry of
// its term, so its commit index is at least that of any earlier leader, (2) records that commit index
// and (3) hears from a quorum that it is still the leader. The reader then waits until its state
// machine has applied that index. No lease and no clock: a paused old leader can never answer.

/** Asks for a read index on behalf of `from`; false if there is nowhere to send it (no known leader). */
export function requestReadIndex(s: RaftState, ctx: string, from: string): boolean {
  if (s.role === "leader") {
    if (!s.committedInTerm()) {
      s.pendingReads.push({ ctx, from });
      return true;
    }
    const index = s.log.commit;
    const seq = s.readOnly.add(index, ctx, from, s.id);
    if (s.conf.voters.length <= 1) s.deliverReads(s.readOnly.release(s.conf.voters));
    else s.bcastHeartbeat(seq);
    return true;
  }
  if (from !== s.id || s.lead === null || s.role !== "follower") return false;
  s.send({ type: "readIndex", from: s.id, to: s.lead, term: 0, ctx });
  return true;
}

/** Serves reads that were waiting for the leader's first commit in its term. */
export function releasePendingReads(s: RaftState): void {
  if (s.role !== "leader" || s.pendingReads.length === 0 || !s.committedInTerm()) return;
  const waiting = s.pendingReads;
  s.pendingReads = [];
  for (const r of waiting) requestReadIndex(s, r.ctx, r.from);
}
