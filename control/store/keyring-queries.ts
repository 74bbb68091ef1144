import { eq } from "drizzle-orm";
import type { StateDb } from "./db";
import { gossipKeyring } from "./schema";

/** The replicated gossip keyring (primary first), or null before the first `keys` operation. */
export function getGossipKeyring(s: StateDb): string[] | null {
  const row = s.db.select().from(gossipKeyring).where(eq(gossipKeyring.id, 1)).get();
  return row ? (JSON.parse(row.keys) as string[]) : null;
}

/** Replaces the replicated gossip keyring. */
export function setGossipKeyring(s: StateDb, keys: string[], at: number): void {
  const value = JSON.stringify(keys);
  s.db
    .insert(gossipKeyring)
    .values({ id: 1, keys: value, updatedAt: at })
    .onConflictDoUpdate({ target: gossipKeyring.id, set: { keys: value, updatedAt: at } })
    .run();
}
