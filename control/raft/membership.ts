import { applyConfChange, cloneConf, decodeConfChange, encodeConfChange } from "./config-change";
import { RaftInvariantError } from "./log";
import type { ConfChange, Entry } from "./messages";
import { bcastAppend, onCommitAdvanced, sendAppend } from "./replication";
import type { RaftState } from "./state";

/** A membership change as a caller asks for it; `addVoter` joins as a learner and is promoted once caught up. */
export type ConfChangeRequest = { type: "addVoter" | "addLearner" | "remove"; node: string };

/** Why a proposal was not accepted. */
export type RejectReason =
  | "not-leader"
  | "no-leader"
  | "transferring"
  | "conf-change-pending"
  | "invalid-conf-change";

/** Result of a proposal: the leader reports the entry's index; a forwarding follower reports null. */
export type ProposeResult = { ok: true; index: number | null } | { ok: false; reason: RejectReason };

/**
 * Puts a committed conf entry into effect as it is handed out for applying (etcd's rule: a change
 * takes effect when applied, and the leader allows one unapplied change at a time).
 */
export function applyConfEntry(s: RaftState, e: Entry): void {
  let cc: ConfChange;
  try {
    cc = decodeConfChange(e.data);
  } catch (err) {
    throw new RaftInvariantError(`committed conf entry ${e.index} is malformed`, { cause: err });
  }
  s.conf = applyConfChange(s.conf, cc);
  s.confHistory.push({ index: e.index, conf: cloneConf(s.conf) });
  if (s.role !== "leader") return;
  const members = new Set([...s.conf.voters, ...s.conf.learners]);
  if (!members.has(s.id)) {
    // Removed: a leader that stays on would keep a cluster it no longer belongs to from electing.
    s.becomeFollower(s.term, null);
    return;
  }
  for (const id of s.progress.keys()) if (!members.has(id)) s.progress.delete(id);
  for (const id of members) {
    if (s.progress.has(id)) continue;
    s.addProgress(id);
    sendAppend(s, id);
  }
  if (s.leadTransferee !== null && !s.isVoter(s.leadTransferee)) s.leadTransferee = null;
  // The quorum changed: something may now be committed, and some reads may now be confirmed.
  s.deliverReads(s.readOnly.release(s.conf.voters));
  if (s.maybeCommit()) onCommitAdvanced(s);
}

/** Whether the leader may propose a membership change now. */
function confChangeAllowed(s: RaftState): RejectReason | null {
  if (s.role !== "leader") return "not-leader";
  if (s.leadTransferee !== null) return "transferring";
  if (s.pendingConfIndex > s.log.applying || !s.committedInTerm()) return "conf-change-pending";
  return null;
}

function appendConf(s: RaftState, cc: ConfChange): number {
  const [e] = s.appendLocal([{ type: "conf", data: encodeConfChange(cc) }]);
  if (!e) throw new RaftInvariantError("append returned nothing");
  s.pendingConfIndex = e.index;
  bcastAppend(s);
  return e.index;
}

/** Leader: proposes one single-server membership change. */
export function proposeConfChange(s: RaftState, req: ConfChangeRequest): ProposeResult {
  const blocked = confChangeAllowed(s);
  if (blocked) return { ok: false, reason: blocked };
  const isVoter = s.conf.voters.includes(req.node);
  const isLearner = s.conf.learners.includes(req.node);
  let cc: ConfChange;
  switch (req.type) {
    case "addVoter":
      if (isVoter) return { ok: false, reason: "invalid-conf-change" };
      // A voter that cannot keep up would only make quorums harder: join as a learner, promote later.
      if (isLearner && caughtUp(s, req.node)) cc = { type: "promote", node: req.node };
      else if (isLearner && s.conf.autoPromote.includes(req.node))
        return { ok: false, reason: "conf-change-pending" };
      else cc = { type: "addLearner", node: req.node, autoPromote: true };
      break;
    case "addLearner":
      if (isVoter || isLearner) return { ok: false, reason: "invalid-conf-change" };
      cc = { type: "addLearner", node: req.node, autoPromote: false };
      break;
    case "remove":
      if (!isVoter && !isLearner) return { ok: false, reason: "invalid-conf-change" };
      if (isVoter && s.conf.voters.length === 1) return { ok: false, reason: "invalid-conf-change" };
      cc = { type: "remove", node: req.node };
      break;
  }
  return { ok: true, index: appendConf(s, cc) };
}

/** Whether a learner's log is within one append batch of the leader's and it is reachable. */
function caughtUp(s: RaftState, id: string): boolean {
  const pr = s.progress.get(id);
  if (!pr) return false;
  return pr.recentActive && s.log.lastIndex() - pr.match <= s.cfg.maxEntriesPerMsg;
}

/** Leader: promotes one auto-promote learner that has caught up. */
export function maybeAutoPromote(s: RaftState): void {
  if (confChangeAllowed(s) !== null) return;
  const id = s.conf.autoPromote.find((l) => caughtUp(s, l));
  if (id !== undefined) appendConf(s, { type: "promote", node: id });
}
