// How late a job's scheduled runs start and how far an @every job's cadence drifts: the figures
// GET /v1/jobs/:name shows, as pure arithmetic over what the store reads from the retained history.

/** Start lateness of a job's scheduled runs (started_at − scheduled_at, ms) over its retained history. */
export interface LatenessJson {
  /** Executions measured: first attempts of schedule and catchup runs whose runner reported its start. */
  samples: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

/** An @every job's configured interval against the mean interval between its actual scheduled starts. */
export interface DriftJson {
  configured_ms: number;
  effective_ms: number;
  /** Intervals measured: one fewer than the scheduled runs whose start is known. */
  samples: number;
}

/**
 * The 1-based rank of the `percent` percentile (an integer percent) among `n` ascending samples, by
 * the nearest-rank method: the smallest sample with at least `percent`% of them at or below it, so
 * it is always a value that occurred. `percent × n / 100` is a quotient of integers, exact when it
 * is whole, so 99% of 100 samples is rank 99, never 100 through rounding.
 */
export function nearestRank(n: number, percent: number): number {
  if (!(n >= 1)) throw new RangeError(`nearestRank: need at least one sample, got ${n}`);
  return Math.min(n, Math.max(1, Math.ceil((percent * n) / 100)));
}

/**
 * Lateness figures from `n` samples whose largest is `maxMs`; `at(rank)` reads the sample of a
 * 1-based rank in ascending order (the store asks SQLite for it). Null for no samples.
 */
export function latenessOf(n: number, maxMs: number, at: (rank: number) => number): LatenessJson | null {
  if (n < 1) return null;
  return { samples: n, p50_ms: at(nearestRank(n, 50)), p99_ms: at(nearestRank(n, 99)), max_ms: maxMs };
}

/** The first and last of `count` consecutive scheduled starts (ms). */
export interface StartSpan {
  count: number;
  first: number;
  last: number;
}

/**
 * Drift of an @every job: the mean interval between consecutive starts (it telescopes to
 * (last − first) / (count − 1), so the span is all it needs), rounded to the ms, against the
 * configured one. Null with fewer than two starts.
 */
export function driftOf(configuredMs: number, span: StartSpan): DriftJson | null {
  if (span.count < 2) return null;
  const intervals = span.count - 1;
  return {
    configured_ms: configuredMs,
    effective_ms: Math.round((span.last - span.first) / intervals),
    samples: intervals,
  };
}
