/**
 * Dkron's retry back-off: floor(log2(elapsed / 500ms) + attempt) * 500ms, where elapsed is how long
 * the failed attempt ran. Runs shorter than 500 ms make the log term very negative: no wait.
 */
export function retryBackoffMs(elapsedMs: number, attempt: number): number {
  if (elapsedMs <= 0) return 0;
  const steps = Math.floor(Math.log2(elapsedMs / 500) + attempt);
  return Math.max(0, steps * 500);
}
