import { asc, eq } from "drizzle-orm";
import type { StateDb } from "./db";
import { meta, tokens } from "./schema";

/** A tokens row. */
export type TokenRow = typeof tokens.$inferSelect;

/** One token by id, or undefined (revoked tokens are deleted). */
export function getToken(s: StateDb, id: string): TokenRow | undefined {
  return s.db.select().from(tokens).where(eq(tokens.id, id)).get();
}

/** Every token, oldest first. */
export function listTokens(s: StateDb): TokenRow[] {
  return s.db.select().from(tokens).orderBy(asc(tokens.createdAt), asc(tokens.id)).all();
}

/** Whether the cluster has made its first start's admin token (even if it was revoked since). */
export function authBootstrapped(s: StateDb): boolean {
  return s.db.select().from(meta).where(eq(meta.key, "auth_bootstrapped")).get() !== undefined;
}

/** Records that the first admin token was made (apply of a bootstrap `token.create`). */
export function markAuthBootstrapped(s: StateDb): void {
  s.db.insert(meta).values({ key: "auth_bootstrapped", value: 1 }).run();
}
