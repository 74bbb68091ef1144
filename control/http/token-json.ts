import type { Scope, TokenJson } from "../../shared";
import type { TokenRow } from "../store";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A tokens row as the API shows it (the hash never leaves the state machine). */
export function tokenToJson(r: TokenRow): TokenJson {
  return {
    id: r.id,
    name: r.name,
    scopes: r.scopes.split(",") as Scope[],
    prefix: r.prefix,
    created_at: new Date(r.createdAt).toISOString(),
    created_by: r.createdBy,
    expires_at: iso(r.expiresAt),
    last_used_at: iso(r.lastUsedAt),
  };
}
