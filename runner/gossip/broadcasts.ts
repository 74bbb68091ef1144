import { type GossipMessage, messageBytes } from "./messages";

interface Queued {
  /** The member the message is about: a newer message about it replaces this one. */
  key: string;
  msg: GossipMessage;
  bytes: number;
  transmits: number;
  /** Insertion order, newest highest. */
  order: number;
}

/**
 * memberlist's TransmitLimitedQueue: messages about members waiting to be piggy-backed on outgoing
 * packets, least-sent first (newest first among equals), each sent at most `limit(n)` times, and a
 * newer message about a member invalidating the older one.
 */
export class BroadcastQueue {
  private items = new Map<string, Queued>();
  private order = 0;

  /** Queues msg about member key, replacing anything queued about it. */
  push(key: string, msg: GossipMessage): void {
    this.items.set(key, { key, msg, bytes: messageBytes(msg), transmits: 0, order: ++this.order });
  }

  /** Number of queued messages. */
  get size(): number {
    return this.items.size;
  }

  /** Whether a message about key is still queued. */
  has(key: string): boolean {
    return this.items.has(key);
  }

  /**
   * Takes messages that fit in `budget` bytes, each costing its size plus `perMessage` (the comma),
   * counting a transmit for each; drops those that reached `limit`.
   */
  take(budget: number, perMessage: number, limit: number): GossipMessage[] {
    if (this.items.size === 0) return [];
    const all = [...this.items.values()].sort((a, b) => a.transmits - b.transmits || b.order - a.order);
    const out: GossipMessage[] = [];
    let left = budget;
    for (const q of all) {
      const cost = q.bytes + perMessage;
      if (cost > left) continue;
      left -= cost;
      out.push(q.msg);
      q.transmits++;
      if (q.transmits >= limit) this.items.delete(q.key);
      if (left < 40) break;
    }
    return out;
  }
}
