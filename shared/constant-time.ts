const encoder = new TextEncoder();

/**
 * Compares two secrets (tokens, shared secrets) in time that depends only on their lengths, never on
 * where they first differ, so a wrong guess leaks no prefix. Plain JS over UTF-8 bytes: it runs in
 * workerd and in Node alike (shared/ may not import node:crypto).
 */
export function safeEqual(given: string, expected: string): boolean {
  const a = encoder.encode(given);
  const b = encoder.encode(expected);
  // Every byte of the longer one is visited and folded into diff; no early exit on a mismatch.
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
