import type { MessageOf } from "./messages";
import { releasePendingReads } from "./read-index";
import { handleSnapResp, maybeResendChunk, startSnapshot } from "./snapshot-transfer";
import type { RaftState } from "./state";

export { handleSnapResp };

/**
 * Leader: sends the next append to one follower if its flow control allows. With `sendIfEmpty` false
 * an append without entries is not sent (used to fill the pipeline). Falls back to InstallSnapshot
 * when the entries the follower needs were compacted away.
 */
export function sendAppend(s: RaftState, to: string, sendIfEmpty = true): boolean {
  const pr = s.progress.get(to);
  if (!pr || to === s.id || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = s.log.term(prevIndex);
  const last = s.log.lastIndex();
  const entries = s.log.slice(pr.next, last + 1, s.cfg.maxEntriesPerMsg, s.cfg.maxBytesPerMsg);
  if (prevTerm === undefined || entries === undefined) return startSnapshot(s, to, pr);
  if (entries.length === 0 && !sendIfEmpty) return false;
  s.send({
    type: "app",
    from: s.id,
    to,
    term: s.term,
    index: prevIndex,
    logTerm: prevTerm,
    entries,
    commit: s.log.commit,
  });
  const lastSent = entries.at(-1);
  if (pr.state === "replicate" && lastSent) {
    if (pr.inflights.count === 0) pr.lastAckTick = s.ticks;
    pr.optimisticUpdate(lastSent.index);
    pr.inflights.add(lastSent.index);
  } else if (pr.state === "probe") {
    pr.probeSent = true;
  }
  return true;
}

/** Leader: sends what each follower is missing, pipelining as far as the window allows. */
export function bcastAppend(s: RaftState): void {
  s.needsBcast = false;
  for (const p of s.peers()) {
    if (!sendAppend(s, p, true)) continue;
    while (sendAppend(s, p, false)) {}
  }
}

/**
 * Leader: after the commit index moved, serve waiting reads and tell followers. The telling waits
 * for the next Ready (`needsBcast`), as new proposals do: the acks and the proposals that arrive in
 * one event-loop turn then leave as one append per follower carrying both the new entries and the
 * new commit index, instead of an empty commit notice followed by the entries.
 */
export function onCommitAdvanced(s: RaftState): void {
  releasePendingReads(s);
  s.needsBcast = true;
}

/** Leader: handles a follower's answer to an append (or to a finished snapshot). */
export function handleAppResp(s: RaftState, m: MessageOf<"appResp">): void {
  const pr = s.progress.get(m.from);
  if (!pr) return;
  pr.recentActive = true;
  if (m.reject) {
    let hint = m.rejectHint;
    if (m.hintTerm > 0) hint = s.log.findConflictByTerm(m.rejectHint, m.hintTerm).index;
    if (pr.maybeDecrTo(m.index, hint)) {
      if (pr.state === "replicate") pr.becomeProbe();
      sendAppend(s, m.from);
    }
    return;
  }
  const updated = pr.maybeUpdate(m.index);
  if (!updated && !(pr.state === "probe" && pr.match === m.index)) return;
  if (updated) pr.lastAckTick = s.ticks;
  if (pr.state === "probe") {
    pr.becomeReplicate();
    pr.lastAckTick = s.ticks;
  } else if (pr.state === "snapshot") {
    if (pr.match >= pr.pendingSnapshot) {
      pr.becomeProbe();
      pr.becomeReplicate();
      pr.lastAckTick = s.ticks;
    }
  } else {
    pr.inflights.freeLE(m.index);
  }
  if (s.maybeCommit()) onCommitAdvanced(s);
  if (sendAppend(s, m.from, false)) while (sendAppend(s, m.from, false)) {}
  if (m.from === s.leadTransferee && pr.match === s.log.lastIndex()) {
    s.send({ type: "timeoutNow", from: s.id, to: m.from, term: s.term });
  }
}

/** Leader: a heartbeat came back: the follower is alive; restart a stalled flow and count read acks. */
export function handleHeartbeatResp(s: RaftState, m: MessageOf<"heartbeatResp">): void {
  const pr = s.progress.get(m.from);
  if (!pr) return;
  pr.recentActive = true;
  pr.probeSent = false;
  // Pipelined appends whose acks never came (dropped on the way): fall back to probing from match.
  if (pr.state === "replicate" && pr.inflights.count > 0 && s.ticks - pr.lastAckTick >= s.cfg.resendTicks) {
    pr.becomeProbe();
  }
  if (pr.state === "snapshot") maybeResendChunk(s, m.from, pr);
  else if (pr.match < s.log.lastIndex() || pr.state === "probe") sendAppend(s, m.from, pr.state === "probe");
  if (m.readSeq > 0) s.deliverReads(s.readOnly.ack(m.from, m.readSeq, s.conf.voters));
}

/** Follower: AppendEntries. The answer waits for this node's write to be durable (it is an ack). */
export function handleAppend(s: RaftState, m: MessageOf<"app">): void {
  const reply = (index: number, reject: boolean, rejectHint = 0, hintTerm = 0) =>
    s.send({ type: "appResp", from: s.id, to: m.from, term: s.term, index, reject, rejectHint, hintTerm });
  if (m.index < s.log.commit) {
    reply(s.log.commit, false);
    return;
  }
  const lastNew = s.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== null) {
    reply(lastNew, false);
    return;
  }
  const hint = s.log.findConflictByTerm(Math.min(m.index, s.log.lastIndex()), m.logTerm);
  reply(m.index, true, hint.index, hint.term);
}

/** Follower: a heartbeat; its commit is capped by the leader at what we are known to hold. */
export function handleHeartbeat(s: RaftState, m: MessageOf<"heartbeat">): void {
  s.log.commitTo(Math.min(m.commit, s.log.lastIndex()));
  s.send({ type: "heartbeatResp", from: s.id, to: m.from, term: s.term, readSeq: m.readSeq });
}
