import type { Entry, LogPosition } from "./messages";

/** Thrown when an input would break a Raft invariant; a node that throws this must not continue. */
export class RaftInvariantError extends Error {
  override name = "RaftInvariantError";
}

/**
 * The node's in-memory view of its log: entries after a compacted prefix, plus four cursors that the
 * Ready/advance cycle moves. `handed` ≤ last: entries up to it were given to the driver to persist;
 * `stable` ≤ handed: the driver reported them durable; `applying`: handed out for the state machine;
 * `applied`: reported applied. The durable copy lives in a LogStore; this view is rebuilt from it.
 */
export class RaftLog {
  private entries: Entry[];
  /** Characters of data in `entries`, kept as they change: what the log costs in memory. */
  private chars = 0;
  private offset: number;
  private offsetTerm: number;
  commit: number;
  stable: number;
  handed: number;
  applying: number;
  applied: number;

  constructor(start: LogPosition, entries: Entry[], commit: number, applied: number) {
    this.offset = start.index;
    this.offsetTerm = start.term;
    this.entries = entries;
    for (let i = 0; i < entries.length; i++) {
      if (entries[i]?.index !== start.index + 1 + i)
        throw new RaftInvariantError("stored log is not contiguous");
      this.chars += entries[i]!.data.length;
    }
    this.stable = this.handed = this.lastIndex();
    this.applied = this.applying = Math.max(applied, start.index);
    this.commit = Math.min(Math.max(commit, this.applied), this.lastIndex());
  }

  /** Index of the last compacted entry (the log holds entries after it). */
  get start(): LogPosition {
    return { index: this.offset, term: this.offsetTerm };
  }

  /** Characters of entry data held in memory. */
  heldChars(): number {
    return this.chars;
  }

  /**
   * The highest index ≤ `index` to compact to so that at most `maxEntries` entries, and no more than
   * `maxChars` characters of data beyond the first, stay held up to `index` (trailing a snapshot).
   */
  trailingStart(index: number, maxEntries: number, maxChars: number): number {
    let from = index;
    let chars = 0;
    while (from > this.offset && index - from < maxEntries) {
      const e = this.entries[from - this.offset - 1];
      if (!e || (index > from && chars + e.data.length > maxChars)) break;
      chars += e.data.length;
      from--;
    }
    return from;
  }

  /** First index still held in memory. */
  firstIndex(): number {
    return this.offset + 1;
  }

  /** Last index in the log. */
  lastIndex(): number {
    return this.offset + this.entries.length;
  }

  /** Term of the last entry. */
  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** Term at index, or undefined when compacted away or past the end. */
  term(index: number): number | undefined {
    if (index === this.offset) return this.offsetTerm;
    if (index < this.offset || index > this.lastIndex()) return undefined;
    return this.entries[index - this.offset - 1]?.term;
  }

  /** Whether the log holds an entry at index with this term. */
  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** The election restriction: a candidate's log must be at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** Entries in [lo, hi), at most maxCount and maxChars of data; undefined if lo is compacted. */
  slice(
    lo: number,
    hi: number,
    maxCount = Number.POSITIVE_INFINITY,
    maxChars = Number.POSITIVE_INFINITY,
  ): Entry[] | undefined {
    if (lo <= this.offset) return undefined;
    const end = Math.min(hi, this.lastIndex() + 1, lo + maxCount);
    const out: Entry[] = [];
    let chars = 0;
    for (let i = lo; i < end; i++) {
      const e = this.entries[i - this.offset - 1];
      if (!e) break;
      // Always send at least one entry, or a big entry would stall replication forever.
      if (out.length > 0 && chars + e.data.length > maxChars) break;
      chars += e.data.length;
      out.push(e);
    }
    return out;
  }

  /** The entry at index, if held. */
  entry(index: number): Entry | undefined {
    if (index <= this.offset) return undefined;
    return this.entries[index - this.offset - 1];
  }

  /** Appends entries whose first index is at most last+1, truncating any conflicting suffix. */
  append(ents: Entry[]): void {
    const first = ents[0];
    if (!first) return;
    if (first.index <= this.commit) {
      throw new RaftInvariantError(`truncating committed entry ${first.index} (commit ${this.commit})`);
    }
    if (first.index > this.lastIndex() + 1) throw new RaftInvariantError(`gap appending at ${first.index}`);
    for (let i = first.index - this.offset - 1; i < this.entries.length; i++)
      this.chars -= this.entries[i]!.data.length;
    this.entries.length = first.index - this.offset - 1;
    this.stable = Math.min(this.stable, first.index - 1);
    this.handed = Math.min(this.handed, first.index - 1);
    for (const e of ents) {
      this.entries.push(e);
      this.chars += e.data.length;
    }
  }

  /**
   * The follower side of AppendEntries: if (prevIndex, prevTerm) matches, appends what is new and
   * returns the index of the last entry the leader sent; otherwise null.
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, ents: Entry[]): number | null {
    if (!this.matchTerm(prevIndex, prevTerm)) return null;
    const lastNew = prevIndex + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      if (conflict <= this.commit)
        throw new RaftInvariantError(`entry ${conflict} conflicts with committed log`);
      this.append(ents.slice(conflict - prevIndex - 1));
    }
    this.commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  /** First index whose entry is missing or has a different term; 0 when all match. */
  private findConflict(ents: Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * Largest index ≤ index whose term is ≤ term (etcd's fast log backtracking); returns term 0 when the
   * answer falls in the compacted prefix.
   */
  findConflictByTerm(index: number, term: number): LogPosition {
    let i = Math.min(index, this.lastIndex());
    for (; i > this.offset; i--) {
      const t = this.term(i) ?? 0;
      if (t <= term) return { index: i, term: t };
    }
    return { index: i, term: i === this.offset && this.offsetTerm <= term ? this.offsetTerm : 0 };
  }

  /** Raises the commit index; never lowers it. */
  commitTo(index: number): void {
    if (index <= this.commit) return;
    if (index > this.lastIndex())
      throw new RaftInvariantError(`commit ${index} beyond last ${this.lastIndex()}`);
    this.commit = index;
  }

  /** Entries not yet handed to the driver for persistence. */
  unhanded(): Entry[] {
    return this.entries.slice(this.handed - this.offset);
  }

  /** Committed entries not yet handed out for applying (all are handed for persistence in the same Ready). */
  toApply(): Entry[] {
    if (this.commit <= this.applying) return [];
    return this.entries.slice(this.applying - this.offset, this.commit - this.offset);
  }

  /** Marks entries durable up to pos if the log still holds pos (it may have been truncated since). */
  stableTo(pos: LogPosition): void {
    if (pos.index > this.stable && this.matchTerm(pos.index, pos.term)) this.stable = pos.index;
  }

  /** Replaces the whole log with a snapshot's position (InstallSnapshot). */
  restore(pos: LogPosition): void {
    this.offset = pos.index;
    this.offsetTerm = pos.term;
    this.entries = [];
    this.chars = 0;
    this.commit = pos.index;
    this.handed = this.stable = pos.index;
    this.applying = Math.max(this.applying, pos.index);
  }

  /** Drops entries up to index from memory; they must already be applied. */
  compact(index: number): void {
    if (index <= this.offset) return;
    if (index > this.applying || index > this.handed)
      throw new RaftInvariantError(`compacting unapplied ${index}`);
    const term = this.term(index);
    if (term === undefined) throw new RaftInvariantError(`compacting missing ${index}`);
    for (let i = 0; i < index - this.offset; i++) this.chars -= this.entries[i]!.data.length;
    this.entries = this.entries.slice(index - this.offset);
    this.offset = index;
    this.offsetTerm = term;
  }
}
