import { timingSafeEqual } from "node:crypto";

/** The token of an `Authorization: Bearer …` header ("" when absent). */
export function bearerToken(header: string | undefined): string {
  return (header ?? "").replace(/^Bearer\s+/i, "");
}

/** Compares secrets in constant time (for equal lengths), so a wrong guess leaks no prefix. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
