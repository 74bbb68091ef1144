/**
 * Target selection with Dkron's tag syntax: `{"role": "web:2"}` = two members whose tag `role` is
 * `web`; all tags must match; the smallest count wins; no count = every matching member.
 */

/** A member that can run jobs. */
export interface Candidate {
  name: string;
  tags: Record<string, string>;
}

/** Bare tag values and the cardinality a job's tags ask for. */
export interface ParsedTargets {
  match: Record<string, string>;
  /** Maximum number of targets; Infinity when no tag gives a count. */
  count: number;
}

/** Splits `value[:count]` tags (Dkron's cleanTags): an unparsable count means zero targets. */
export function parseTargetTags(tags: Record<string, string> | null | undefined): ParsedTargets {
  const match: Record<string, string> = {};
  let count = Number.POSITIVE_INFINITY;
  for (const [k, raw] of Object.entries(tags ?? {})) {
    const parts = raw.split(":");
    match[k] = parts[0] ?? "";
    if (parts.length === 2) {
      const n = /^-?\d+$/.test(parts[1]!) ? Number(parts[1]) : 0;
      count = Math.min(count, n);
    }
  }
  return { match, count };
}

/** Members whose tags satisfy every bare job tag. */
export function qualifying(candidates: readonly Candidate[], match: Record<string, string>): Candidate[] {
  return candidates.filter((c) => Object.entries(match).every(([k, v]) => c.tags[k] === v));
}

/**
 * Picks the targets for a run. `random()` in [0,1) is injected so tests are deterministic.
 * Candidates are considered in name order so a seeded choice is reproducible.
 */
export function selectTargets(
  candidates: readonly Candidate[],
  tags: Record<string, string> | null | undefined,
  random: () => number,
): Candidate[] {
  const { match, count } = parseTargetTags(tags);
  const ok = qualifying(candidates, match).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (count <= 0) return [];
  if (ok.length <= count) return ok;
  // Partial Fisher-Yates: a uniform random subset of size `count`.
  const pool = ok.slice();
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count);
}
