/** A seeded source of randomness; the core and the simulator draw from one so a seed replays exactly. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
}

/** mulberry32: tiny, fast and good enough for timeouts and fault schedules (not for secrets). */
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

/** Derives an independent stream from a parent, so adding draws in one place does not shift another. */
export function forkRandom(parent: Random): Random {
  return seededRandom(Math.floor(parent.next() * 4294967296));
}
