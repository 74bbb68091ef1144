/** The token of an `Authorization: Bearer …` header ("" when absent). */
export function bearerToken(header: string | undefined): string {
  return (header ?? "").replace(/^Bearer\s+/i, "");
}

/** Compares secrets in constant time: the one compare, shared with the edge (shared/constant-time.ts). */
export { safeEqual } from "../../shared/constant-time";
