/** One job due at an instant. */
export interface Due {
  at: number;
  name: string;
}

/**
 * A binary min-heap of (instant, job), earliest first (ties by name, so the order is deterministic).
 * Entries are not removed when a job's time changes: the scheduler keeps the current time per job and
 * skips entries that no longer match (lazy deletion), and rebuilds the heap when those pile up.
 */
export class DueHeap {
  private items: Due[] = [];

  /** How many entries it holds, stale ones included. */
  get size(): number {
    return this.items.length;
  }

  /** Adds an entry. */
  push(d: Due): void {
    const a = this.items;
    a.push(d);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  /** The earliest entry, or undefined. */
  peek(): Due | undefined {
    return this.items[0];
  }

  /** Removes and returns the earliest entry, or undefined. */
  pop(): Due | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    a[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && less(a[l]!, a[m]!)) m = l;
      if (r < a.length && less(a[r]!, a[m]!)) m = r;
      if (m === i) break;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
    return top;
  }

  /** Replaces the contents with `entries`. */
  reset(entries: Iterable<Due> = []): void {
    this.items = [];
    for (const d of entries) this.push(d);
  }
}

const less = (x: Due, y: Due) => x.at < y.at || (x.at === y.at && x.name < y.name);
