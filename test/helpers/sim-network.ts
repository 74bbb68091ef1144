import type { Random } from "../../control/raft/random";

/** How unreliable the simulated network is; delays are in virtual time units. */
export interface NetWeather {
  dropRate: number;
  dupRate: number;
  minDelay: number;
  maxDelay: number;
}

/**
 * A seeded network between node ids: drops, duplicates and delays each message independently (so
 * messages overtake each other), and blocks directed links to make symmetric or one-way partitions.
 * It only plans deliveries; the simulator's event queue carries them.
 */
export class SimNetwork {
  private blocked = new Set<string>();

  constructor(
    private readonly random: Random,
    public weather: NetWeather,
  ) {}

  /** Whether messages from `from` to `to` are currently cut. */
  isBlocked(from: string, to: string): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  /** Cuts one direction only (A's messages to B vanish, B's reach A). */
  blockOneWay(from: string, to: string): void {
    this.blocked.add(`${from}>${to}`);
  }

  /** Splits the nodes into groups that cannot talk to each other in either direction. */
  partition(groups: string[][]): void {
    for (const g of groups) {
      for (const h of groups) {
        if (g === h) continue;
        for (const a of g) for (const b of h) this.blocked.add(`${a}>${b}`);
      }
    }
  }

  /** Removes every cut. */
  heal(): void {
    this.blocked.clear();
  }

  /** Describes the cuts, for traces. */
  describe(): string {
    return [...this.blocked].sort().join(" ") || "none";
  }

  /** Delays at which copies of one message arrive: none if dropped or cut, two if duplicated. */
  plan(from: string, to: string): number[] {
    if (this.isBlocked(from, to)) return [];
    const w = this.weather;
    if (this.random.next() < w.dropRate) return [];
    const delay = () => w.minDelay + this.random.int(w.maxDelay - w.minDelay + 1);
    const out = [delay()];
    if (this.random.next() < w.dupRate) out.push(delay());
    return out;
  }
}
