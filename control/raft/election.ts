import { quorum, tally } from "./config-change";
import type { Message, MessageOf } from "./messages";
import { bcastAppend } from "./replication";
import type { RaftState } from "./state";

/** Ticks after granting a higher-ranked pre-vote during which this node's own timeout defers to it. */
const DEFER_TICKS = 1;

/** Follower and candidates: count towards the randomized election timeout. */
export function tickElection(s: RaftState): void {
  s.electionElapsed++;
  if (s.promotable() && s.electionElapsed >= s.randomizedElectionTimeout) {
    s.electionElapsed = 0;
    const grant = s.preVoteGrant;
    s.preVoteGrant = null;
    if (grant && grant.term === s.term + 1 && s.ticks - grant.tick <= DEFER_TICKS) {
      // We granted a higher-ranked pre-candidate its pre-vote for the term we are about to stand in,
      // moments ago: it is about to ask for the real vote. Standing now would split that vote (the
      // others grant pre-votes to both of us), so yield as a pre-candidate would on seeing its
      // request: same term and vote, no leader (so no lease), a fresh timeout.
      s.becomeFollower(s.term, null);
      return;
    }
    hup(s, false);
  }
}

/** Leader: heartbeats, and once per election timeout the check-quorum step-down test. */
export function tickLeader(s: RaftState): void {
  s.heartbeatElapsed++;
  s.electionElapsed++;
  if (s.electionElapsed >= s.cfg.electionTicks) {
    s.electionElapsed = 0;
    if (s.cfg.checkQuorum && !quorumActive(s)) {
      // Cut off from a quorum: stop acting as leader so clients go elsewhere and no reads are served.
      s.becomeFollower(s.term, null);
      return;
    }
    // A transfer that did not finish within an election timeout is abandoned (proposals resume).
    s.leadTransferee = null;
  }
  if (s.heartbeatElapsed >= s.cfg.heartbeatTicks) {
    s.heartbeatElapsed = 0;
    s.bcastHeartbeat();
  }
}

/** Whether a quorum of voters was heard from since the last check; resets the marks. */
function quorumActive(s: RaftState): boolean {
  let active = 0;
  for (const v of s.conf.voters) {
    const pr = s.progress.get(v);
    if (v === s.id || pr?.recentActive) active++;
  }
  for (const [id, pr] of s.progress) pr.recentActive = id === s.id;
  return active >= quorum(s.conf.voters.length);
}

/** Starts an election (with a pre-vote round unless forced by a leadership transfer). */
export function hup(s: RaftState, force: boolean): void {
  if (s.role === "leader" || !s.promotable()) return;
  // A committed but not yet applied membership change could change who may vote; wait for it.
  const unapplied = s.log.slice(s.log.applying + 1, s.log.commit + 1) ?? [];
  if (unapplied.some((e) => e.type === "conf")) return;
  campaign(s, s.cfg.preVote && !force ? "pre" : "real", force);
}

function campaign(s: RaftState, kind: "pre" | "real", force: boolean): void {
  let voteTerm: number;
  if (kind === "pre") {
    s.becomePreCandidate();
    voteTerm = s.term + 1;
  } else {
    s.becomeCandidate();
    voteTerm = s.term;
  }
  s.votes.set(s.id, true);
  if (tally(s.conf.voters, s.votes) === "won") {
    win(s, kind);
    return;
  }
  const type = kind === "pre" ? "preVote" : "vote";
  for (const v of s.conf.voters) {
    if (v === s.id) continue;
    s.send({
      type,
      from: s.id,
      to: v,
      term: voteTerm,
      lastIndex: s.log.lastIndex(),
      lastTerm: s.log.lastTerm(),
      force,
    });
  }
}

function win(s: RaftState, kind: "pre" | "real"): void {
  if (kind === "pre") {
    campaign(s, "real", false);
    return;
  }
  s.becomeLeader();
  bcastAppend(s);
}

/** Any node: a (pre-)vote request that survived the term checks in `checkTerm`. */
export function handleVoteRequest(s: RaftState, m: MessageOf<"vote" | "preVote">): void {
  const respType = m.type === "vote" ? "voteResp" : "preVoteResp";
  const canVote =
    s.vote === m.from ||
    (s.vote === null && s.lead === null) ||
    // A pre-vote for a future term promises nothing, so an existing vote does not block it.
    (m.type === "preVote" && m.term > s.term);
  if (canVote && s.log.isUpToDate(m.lastIndex, m.lastTerm)) {
    // Grants carry the requested term, so the candidate counts them even though we have not moved.
    s.send({ type: respType, from: s.id, to: m.from, term: m.term, reject: false });
    if (m.type === "vote") {
      s.electionElapsed = 0;
      s.vote = m.from;
    } else if (s.isVoter(m.from) && outranks(m, s)) {
      if (s.role === "preCandidate") {
        // Two pre-candidates that grant each other would both stand in the same term and split the
        // vote. Both sides rank the pair the same way, so exactly one yields: the lower one withdraws
        // (same term, vote untouched, fresh timeout, no leader so no lease) and will grant the real vote.
        s.becomeFollower(s.term, null);
      } else if (s.role !== "leader") {
        s.preVoteGrant = { term: m.term, tick: s.ticks };
      }
    }
  } else {
    s.send({ type: respType, from: s.id, to: m.from, term: s.term, reject: true });
  }
}

/**
 * Whether the sender of a (pre-)vote request ranks above this node in the order every node computes
 * the same way: last log term, then last index, then node id. A sender that ranks higher has a log
 * at least as up to date (Raft §5.4.1), so this node would grant it anyway.
 */
function outranks(m: { from: string; lastTerm: number; lastIndex: number }, s: RaftState): boolean {
  const term = s.log.lastTerm();
  if (m.lastTerm !== term) return m.lastTerm > term;
  const index = s.log.lastIndex();
  if (m.lastIndex !== index) return m.lastIndex > index;
  return m.from > s.id;
}

/** Candidates: counts a (pre-)vote response. */
export function handleVoteResp(s: RaftState, m: MessageOf<"voteResp" | "preVoteResp">): void {
  const expected = s.role === "preCandidate" ? "preVoteResp" : s.role === "candidate" ? "voteResp" : null;
  if (m.type !== expected) return;
  s.votes.set(m.from, !m.reject);
  const result = tally(s.conf.voters, s.votes);
  if (result === "won") win(s, s.role === "preCandidate" ? "pre" : "real");
  else if (result === "lost") s.becomeFollower(s.term, null);
}

/**
 * The term rules every message passes first (Raft §5.1 plus pre-vote and the check-quorum lease).
 * Returns false when the message must be dropped.
 */
export function checkTerm(s: RaftState, m: Message): boolean {
  if (m.type === "prop" || m.type === "readIndex") return true;
  if (m.term > s.term) {
    if (m.type === "vote" || m.type === "preVote") {
      // Lease: while we hear from a leader, ignore candidates, so a node that was partitioned away
      // cannot depose a healthy leader. A leadership transfer (force) overrides it.
      const inLease = s.cfg.checkQuorum && s.lead !== null && s.electionElapsed < s.cfg.electionTicks;
      if (!m.force && inLease) return false;
    }
    if (m.type === "preVote" || (m.type === "preVoteResp" && !m.reject)) return true;
    const lead = m.type === "app" || m.type === "heartbeat" || m.type === "snap" ? m.from : null;
    s.becomeFollower(m.term, lead);
    return true;
  }
  if (m.term < s.term) {
    if ((s.cfg.checkQuorum || s.cfg.preVote) && (m.type === "app" || m.type === "heartbeat")) {
      // A stale leader that our lease or pre-vote keeps from learning the new term would never step
      // down; tell it the term.
      s.send({
        type: "appResp",
        from: s.id,
        to: m.from,
        term: s.term,
        index: 0,
        reject: false,
        rejectHint: 0,
        hintTerm: 0,
      });
    } else if (m.type === "preVote") {
      s.send({ type: "preVoteResp", from: s.id, to: m.from, term: s.term, reject: true });
    }
    return false;
  }
  return true;
}
