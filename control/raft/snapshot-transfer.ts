import type { MessageOf, Snapshot } from "./messages";
import type { Progress } from "./progress";
import type { IncomingSnapshot, RaftState } from "./state";
import { fileSnapshot, type SnapshotFile } from "./storage-types";

// InstallSnapshot, chunked: the leader streams up to `maxInflight` chunks ahead of the offset the
// follower has acknowledged; the follower takes chunks only in order and always answers with the
// offset it expects next, so a lost, duplicated or reordered chunk costs a resend from that offset
// (go-back-N) and never corrupts the reassembled data. The final chunk is acknowledged with an
// ordinary append response once the snapshot is durable, which ends the leader's snapshot state.

/** Switches a follower to snapshot state and starts streaming; false if it seems unreachable. */
export function startSnapshot(s: RaftState, to: string, pr: Progress): boolean {
  // A follower we have not heard from lately would only waste the transfer.
  if (!pr.recentActive) return false;
  pr.becomeSnapshot(s.snapshot.meta.index);
  sendChunks(s, to, pr);
  return true;
}

/** Sends chunks from the follower's send cursor while the window allows (restarting for a newer snapshot). */
export function sendChunks(s: RaftState, to: string, pr: Progress): void {
  const snap = s.snapshot;
  if (pr.pendingSnapshot !== snap.meta.index) pr.becomeSnapshot(snap.meta.index);
  const size = s.cfg.snapshotChunkSize;
  const len = snap.data.length;
  const limit = pr.snapOffset + size * s.cfg.maxInflight;
  do {
    const offset = pr.snapSent;
    const chunk = snap.data.slice(offset, offset + size);
    const done = offset + chunk.length >= len;
    s.send({ type: "snap", from: s.id, to, term: s.term, meta: snap.meta, offset, chunk, done });
    pr.snapSent = offset + chunk.length;
    pr.snapSentTick = s.ticks;
    if (done) break;
  } while (pr.snapSent < limit);
}

/** Leader: the follower reports the offset it expects next; slide the window. */
export function handleSnapResp(s: RaftState, m: MessageOf<"snapResp">): void {
  const pr = s.progress.get(m.from);
  if (!pr) return;
  pr.recentActive = true;
  if (pr.state !== "snapshot" || m.index !== pr.pendingSnapshot || m.index !== s.snapshot.meta.index) return;
  if (m.offset > s.snapshot.data.length || m.offset <= pr.snapOffset) return;
  pr.snapOffset = m.offset;
  if (pr.snapSent < m.offset) pr.snapSent = m.offset;
  if (pr.snapSent < s.snapshot.data.length) sendChunks(s, m.from, pr);
}

/** Leader: nothing came back for a while (a chunk or its ack was lost): go back to the acknowledged offset. */
export function maybeResendChunk(s: RaftState, to: string, pr: Progress): void {
  if (pr.state !== "snapshot" || s.ticks - pr.snapSentTick < s.cfg.resendTicks) return;
  pr.snapSent = pr.snapOffset;
  sendChunks(s, to, pr);
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
  // Two leaders may serialise the same state differently, so a transfer is one sender in one term;
  // within it, a late duplicate of the first chunk must not throw away what arrived since.
  const same = (x: IncomingSnapshot | null): x is IncomingSnapshot =>
    x !== null && x.from === m.from && x.term === m.term && x.meta.index === m.meta.index;
  if (m.offset === 0 && !same(s.incoming))
    s.incoming = { meta: m.meta, from: m.from, term: m.term, chunks: [], length: 0 };
  const inc = s.incoming;
  if (!same(inc) || inc.length !== m.offset) {
    const expect = same(inc) ? inc.length : 0;
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
 * lagging followers and compacts the log, keeping `trailingEntries` (at most `trailingChars`) behind it. Returns false if it is
 * stale or arrives while an installed snapshot is still waiting to be persisted.
 */
export function takeSnapshot(s: RaftState, index: number, data: string | SnapshotFile): boolean {
  if (s.pendingInstall || index <= s.snapshot.meta.index || index > s.log.applying) return false;
  const term = s.log.term(index);
  if (term === undefined) return false;
  const meta = { index, term, conf: s.confAt(index) };
  s.snapshot = typeof data === "string" ? { meta, data } : fileSnapshot(meta, data);
  const compactIndex = Math.max(
    s.log.start.index,
    s.log.trailingStart(index, s.cfg.trailingEntries, s.cfg.trailingChars),
  );
  s.log.compact(compactIndex);
  let keep = 0;
  s.confHistory.forEach((h, i) => {
    if (h.index <= compactIndex) keep = i;
  });
  s.confHistory = s.confHistory.slice(keep);
  s.pendingCompaction = { snapshot: s.snapshot, compactIndex };
  return true;
}
