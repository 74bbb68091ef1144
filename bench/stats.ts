/** Percentile (0-100) of a list of numbers, nearest-rank. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** One line of figures: count, p50, p99, max in ms. */
export function summary(label: string, xs: readonly number[]): string {
  const f = (n: number) => n.toFixed(1).padStart(7);
  return `${label.padEnd(44)} n=${String(xs.length).padStart(4)}  p50=${f(percentile(xs, 50))} ms  p99=${f(percentile(xs, 99))} ms  max=${f(Math.max(...xs))} ms`;
}
