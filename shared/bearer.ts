/** The token of an `Authorization: Bearer …` header ("" when absent). */
export function bearerToken(header: string | undefined): string {
  // "Bearer" alone (an empty token, its trailing space trimmed in transit) is no token, not "Bearer".
  return (header ?? "").replace(/^Bearer(?:\s+|$)/i, "");
}
