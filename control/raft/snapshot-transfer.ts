import type { MessageOf, Snapshot } from "./messages";
import type { Progress } from "./progress";
import type { RaftState } from "./state";

// InstallSnapshot, chunked: the leader sends one chunk at a time and the follower acknowledges the
// offset it expects next, so a lost or duplicated chunk costs one resend and never corrupts the
// reassembled data. The final chunk is acknowledged with an ordinary append response once the
// snapshot is durable, which moves the leader's progress out of snapshot state.

/** Switches a follower to snapshot state and sends the first chunk; false if it seems unreachable. */
export function startSnapshot(s: RaftState, to: string, pr: Progress): boolean {
  // A follower we have not heard from lately would only waste the transfer.
  if (!pr.recentActive) return false;
  pr.becomeSnapshot(s.snapshot.meta.index);
  sendChunk(s, to, pr);
  return true;
}

/** Sends the chunk at the follower's current offset (restarting if a newer snapshot replaced the old). */
export function sendChunk(s: RaftState, to: string, pr: Progress): void {
  const snap = s.snapshot;
  if (pr.pendingSnapshot !== snap.meta.index) pr.becomeSnapshot(snap.meta.index);
  const chunk = snap.data.slice(pr.snapOffset, pr.snapOffset + s.cfg.snapshotChunkSize);
  const done = pr.snapOffset + chunk.length >= snap.data.length;
  s.send({ type: "snap", from: s.id, to, term: s.term, meta: snap.meta, offset: pr.snapOffset, chunk, done });
  pr.snapSentTick = s.ticks;
}

/** Leader: a chunk was acknowledged; send the next one. */
export function handleSnapResp(s: RaftState, m: MessageOf<"snapResp">): void {
  const pr = s.progress.get(m.from);
  if (!pr) return;
  pr.recentActive = true;
  if (pr.state !== "snapshot" || m.index !== pr.pendingSnapshot || m.index !== s.snapshot.meta.index) return;
  if (m.offset > s.snapshot.data.length) return;
  pr.snapOffset = m.offset;
  if (m.offset < s.snapshot.data.length) sendChunk(s, m.from, pr);
}

/** Leader: resend the current chunk if nothing came back for a while (the chunk or its ack was lost). */
export function maybeResendChunk(s: RaftState, to: string, pr: Progress): void {
  if (pr.state === "snapshot" && s.ticks - pr.snapSentTick >= s.cfg.resendTicks) sendChunk(s, to, pr);
}

/** Follower: takes one chunk; on the last one installs the snapshot. */
export function handleSnapChunk(s: RaftState, m: MessageOf<"snap">): void {
  const ack = (index: number) =>
    s.send({
      type: "appResp",
      from: s.id,
      to: m.from,
      term: s.term,
      index,
      reject: false,
      rejectHint: 0,
      hintTerm: 0,
    });
  if (m.meta.index <= s.log.commit) {
    s.incoming = null;
    ack(s.log.commit);
    return;
  }
  const same = (x: { index: number; term: number }) => x.index === m.meta.index && x.term === m.meta.term;
  if (m.offset === 0) s.incoming = { meta: m.meta, chunks: [], length: 0 };
  const inc = s.incoming;
  if (!inc || !same(inc.meta) || inc.length !== m.offset) {
    const expect = inc && same(inc.meta) ? inc.length : 0;
    s.send({ type: "snapResp", from: s.id, to: m.from, term: s.term, index: m.meta.index, offset: expect });
    return;
  }
  inc.chunks.push(m.chunk);
  inc.length += m.chunk.length;
  if (!m.done) {
    s.send({
      type: "snapResp",
      from: s.id,
      to: m.from,
      term: s.term,
      index: m.meta.index,
      offset: inc.length,
    });
    return;
  }
  s.incoming = null;
  ack(installSnapshot(s, { meta: inc.meta, data: inc.chunks.join("") }));
}

/** Follower: adopts a leader's snapshot unless the log already holds it; returns the index to acknowledge. */
export function installSnapshot(s: RaftState, snap: Snapshot): number {
  const { index, term } = snap.meta;
  if (index <= s.log.commit) return s.log.commit;
  if (s.log.matchTerm(index, term)) {
    // The log already has this prefix: fast-forward the commit and keep the entries after it.
    s.log.commitTo(index);
    return s.log.commit;
  }
  s.log.restore({ index, term });
  s.conf = snap.meta.conf;
  s.confHistory = [{ index, conf: snap.meta.conf }];
  s.snapshot = snap;
  s.pendingInstall = snap;
  s.pendingCompaction = null;
  return index;
}

/**
 * Takes a snapshot the driver produced at `index` (≤ what was handed out for applying): keeps it for
 * lagging followers and compacts the log, keeping `trailingEntries` behind it. Returns false if it is
 * stale or arrives while an installed snapshot is still waiting to be persisted.
 */
export function takeSnapshot(s: RaftState, index: number, data: string): boolean {
  if (s.pendingInstall || index <= s.snapshot.meta.index || index > s.log.applying) return false;
  const term = s.log.term(index);
  if (term === undefined) return false;
  s.snapshot = { meta: { index, term, conf: s.confAt(index) }, data };
  const compactIndex = Math.max(s.log.start.index, index - s.cfg.trailingEntries);
  s.log.compact(compactIndex);
  let keep = 0;
  s.confHistory.forEach((h, i) => {
    if (h.index <= compactIndex) keep = i;
  });
  s.confHistory = s.confHistory.slice(keep);
  s.pendingCompaction = { snapshot: s.snapshot, compactIndex };
  return true;
}
