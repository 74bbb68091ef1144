/** The token of an `Authorization: Bearer …` header ("" when absent). */
export function bearerToken(header: string | undefined): string {
  return (header ?? "").replace(/^Bearer\s+/i, "");
}
