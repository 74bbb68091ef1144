import { asc, eq } from "drizzle-orm";
import type { StateDb } from "./db";
import { runnerJoinTokens, runners } from "./schema";

/** A runner_join_tokens row. */
export type JoinTokenRow = typeof runnerJoinTokens.$inferSelect;
/** A runners row. */
export type RunnerRow = typeof runners.$inferSelect;

/** One join token by id, or undefined (revoked ones are deleted). */
export function getJoinToken(s: StateDb, id: string): JoinTokenRow | undefined {
  return s.db.select().from(runnerJoinTokens).where(eq(runnerJoinTokens.id, id)).get();
}

/** Every join token, oldest first. */
export function listJoinTokens(s: StateDb): JoinTokenRow[] {
  return s.db
    .select()
    .from(runnerJoinTokens)
    .orderBy(asc(runnerJoinTokens.createdAt), asc(runnerJoinTokens.id))
    .all();
}

/** One registered runner by name. */
export function getRunner(s: StateDb, name: string): RunnerRow | undefined {
  return s.db.select().from(runners).where(eq(runners.name, name)).get();
}

/** The runner a credential id belongs to (revoked credentials have no row). */
export function runnerByCredential(s: StateDb, credentialId: string): RunnerRow | undefined {
  return s.db.select().from(runners).where(eq(runners.credentialId, credentialId)).get();
}

/** Every registered runner, by name. */
export function listRunners(s: StateDb): RunnerRow[] {
  return s.db.select().from(runners).orderBy(asc(runners.name)).all();
}
