/**
 * The gossip core's only source of randomness (probe order, gossip and ping-req targets), seeded in
 * simulations so a seed replays exactly. The same shape as control/raft/random.ts, which runner/ may
 * not import: the runner package ships without control/.
 */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
}

/** mulberry32: tiny, fast and good enough for target choice and fault schedules (not for secrets). */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n) };
}

/** Fisher-Yates shuffle in place with the given source. */
export function shuffle<T>(xs: T[], random: Random): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const t = xs[i] as T;
    xs[i] = xs[j] as T;
    xs[j] = t;
  }
  return xs;
}

/** Up to k distinct random items of xs that pass keep (memberlist's kRandomNodes). */
export function pickRandom<T>(xs: readonly T[], k: number, random: Random, keep: (x: T) => boolean): T[] {
  const out: T[] = [];
  const n = xs.length;
  // Bounded tries as memberlist does (3n), so a mostly-filtered list costs O(n), not a loop.
  for (let i = 0; i < 3 * n && out.length < k; i++) {
    const x = xs[random.int(n)] as T;
    if (keep(x) && !out.includes(x)) out.push(x);
  }
  return out;
}
