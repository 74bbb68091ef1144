import type { Random } from "../../shared";

// The seeded source is shared/random.ts (the Raft core draws from the same one); gossip adds the
// draws memberlist makes: shuffles and k random members.
export { type Random, seededRandom } from "../../shared";

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
