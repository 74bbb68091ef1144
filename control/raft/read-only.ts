import { quorum } from "./config-change";

/** A read that may be served once the local state machine has applied `index`. */
export interface ReadState {
  index: number;
  ctx: string;
}

/** A ReadIndex request waiting for a quorum to confirm the leader is still the leader. */
interface PendingRead {
  seq: number;
  index: number;
  ctx: string;
  /** The node that asked (the leader itself or a follower that forwarded it). */
  from: string;
  acks: Set<string>;
}

/**
 * The leader's ReadIndex queue (Raft thesis §6.4). Each read records the commit index when it
 * arrived and a sequence number carried by the next heartbeats; a heartbeat response for seq s
 * proves leadership at a moment after every read ≤ s arrived, so it acknowledges all of them.
 */
export class ReadOnly {
  private queue: PendingRead[] = [];
  private seq = 0;

  /** Queues a read and returns the seq its confirming heartbeats must carry. */
  add(index: number, ctx: string, from: string, self: string): number {
    this.seq++;
    this.queue.push({ seq: this.seq, index, ctx, from, acks: new Set([self]) });
    return this.seq;
  }

  /** Seq of the newest pending read, or 0; regular heartbeats carry it so lost ones are retried. */
  lastSeq(): number {
    return this.queue.at(-1)?.seq ?? 0;
  }

  /** Number of reads waiting. */
  get size(): number {
    return this.queue.length;
  }

  /** Records a heartbeat response and returns the reads now confirmed by a quorum of voters, in order. */
  ack(from: string, seq: number, voters: readonly string[]): PendingRead[] {
    if (seq === 0) return [];
    for (const r of this.queue) {
      if (r.seq > seq) break;
      r.acks.add(from);
    }
    return this.release(voters);
  }

  /** Returns the confirmed prefix of the queue (e.g. after the voter set shrank). */
  release(voters: readonly string[]): PendingRead[] {
    const need = quorum(voters.length);
    let last = -1;
    this.queue.forEach((r, i) => {
      let n = 0;
      for (const v of voters) if (r.acks.has(v)) n++;
      if (n >= need) last = i;
    });
    return last < 0 ? [] : this.queue.splice(0, last + 1);
  }

  /** Drops every pending read (leadership lost; the callers time out and retry). */
  reset(): void {
    this.queue = [];
  }
}
