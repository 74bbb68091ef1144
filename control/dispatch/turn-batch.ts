/**
 * Collects items and hands them to `flush` together, so a burst (the starts of a scheduler tick, the
 * results read off the sockets in one poll) becomes one log entry instead of one each. Items added
 * inside `hold` are flushed when it returns; others are flushed by `defer` (null: at once, alone).
 * Each `add` settles as its own item's result does.
 */
export class TurnBatch<I, R> {
  private queue: { item: I; resolve: (r: Promise<R>) => void; reject: (e: unknown) => void }[] = [];
  private holds = 0;
  private deferred = false;

  constructor(
    /** Runs a flush later (`setImmediate`: the items of one event-loop turn), or null for at once. */
    private readonly defer: ((fn: () => void) => void) | null,
    /** Proposes the items; returns one result per item, in order. */
    private readonly flush: (items: I[]) => Promise<R>[],
  ) {}

  /** Queues `item` for the next flush; resolves with its result. */
  add(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.holds > 0) return;
      if (!this.defer) this.run();
      else if (!this.deferred) {
        this.deferred = true;
        this.defer(() => {
          this.deferred = false;
          if (this.holds === 0) this.run();
        });
      }
    });
  }

  /** Runs `fn`, holding the items it adds; flushes them together (in the order added) when it returns. */
  hold<T>(fn: () => T): T {
    this.holds++;
    try {
      return fn();
    } finally {
      if (--this.holds === 0) this.run();
    }
  }

  private run(): void {
    if (!this.queue.length) return;
    const batch = this.queue;
    this.queue = [];
    try {
      const results = this.flush(batch.map((b) => b.item));
      for (const [i, b] of batch.entries()) b.resolve(results[i]!);
    } catch (e) {
      for (const b of batch) b.reject(e);
    }
  }
}

/**
 * Splits items into rounds in which no two share a key, keeping their order within a key: the first
 * item of each key goes in the first round, the second in the next, and so on.
 */
export function roundsByKey<I>(items: readonly I[], key: (item: I) => string): I[][] {
  const rounds: I[][] = [];
  const seen = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    const round = rounds[n];
    if (round) round.push(item);
    else rounds.push([item]);
  }
  return rounds;
}
