/**
 * How the leader replicates to one follower:
 * probe — one append at a time until the follower's log position is found;
 * replicate — optimistic pipelining, bounded by the inflight window;
 * snapshot — an InstallSnapshot transfer is running, appends wait for it.
 */
export type ProgressState = "probe" | "replicate" | "snapshot";

/** A ring of the last indexes of unacknowledged appends: the flow-control window. */
export class Inflights {
  private readonly items: number[] = [];

  constructor(readonly capacity: number) {}

  /** Number of appends in flight. */
  get count(): number {
    return this.items.length;
  }

  /** Whether the window is full. */
  full(): boolean {
    return this.items.length >= this.capacity;
  }

  /** Records an append whose last entry is index. */
  add(index: number): void {
    this.items.push(index);
  }

  /** Acknowledges every append up to index. */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.items.length && (this.items[n] ?? 0) <= index) n++;
    if (n > 0) this.items.splice(0, n);
  }

  /** Forgets everything in flight. */
  reset(): void {
    this.items.length = 0;
  }
}

/** The leader's view of one follower (or learner). */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = "probe";
  /** In probe state, an append is outstanding; the next heartbeat response re-opens the flow. */
  probeSent = false;
  /** In snapshot state: the snapshot index being sent, the offset acknowledged and the next to send. */
  pendingSnapshot = 0;
  snapOffset = 0;
  snapSent = 0;
  /** Tick of the last chunk sent, for retransmission after a loss. */
  snapSentTick = 0;
  /** Set by any message from the follower; check-quorum reads and clears it once per election timeout. */
  recentActive = false;
  /** Tick of the last acknowledgement that moved match, to notice a stalled pipeline. */
  lastAckTick = 0;
  readonly inflights: Inflights;

  constructor(next: number, maxInflight: number) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  /** Drops back to one-at-a-time probing (after a rejection, stall or finished snapshot). */
  becomeProbe(): void {
    if (this.state === "snapshot") {
      this.next = Math.max(this.match + 1, this.pendingSnapshot + 1);
    } else {
      this.next = this.match + 1;
    }
    this.resetState("probe");
  }

  /** Starts pipelining right after match. */
  becomeReplicate(): void {
    this.next = this.match + 1;
    this.resetState("replicate");
  }

  /** Starts sending the snapshot at index from its first chunk. */
  becomeSnapshot(index: number): void {
    this.resetState("snapshot");
    this.pendingSnapshot = index;
  }

  private resetState(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapOffset = 0;
    this.snapSent = 0;
    this.snapSentTick = 0;
    this.inflights.reset();
  }

  /** Handles an acknowledgement up to index; returns whether match moved. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (index > this.match) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /** Pipelining: assume the append up to index will land. */
  optimisticUpdate(index: number): void {
    this.next = index + 1;
  }

  /**
   * Handles a rejection of the append whose previous index was `rejected`; `hint` is where to probe
   * next. Returns false for a stale rejection that must be ignored.
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (this.state === "replicate") {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** Whether the leader must not send another append now. */
  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.inflights.full();
      case "snapshot":
        return true;
    }
  }
}
