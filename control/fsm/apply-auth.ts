import { and, eq, sql } from "drizzle-orm";
import { AppError } from "../../shared";
import {
  auditStatements,
  authBootstrapped,
  getToken,
  markAuthBootstrapped,
  type StateDb,
  tokens,
} from "../store";
import type { AuditStamp, Command, TokenCreateCommand } from "./commands";

/** Stamps naming these are not API tokens: auth off, the node itself, a signed webhook, a runner join. */
function isTokenId(id: string): boolean {
  return id !== "anonymous" && id !== "system" && !id.startsWith("hook:") && !id.startsWith("join:");
}

/**
 * Refuses a change asked for with a token that is gone or expired at the entry's time: a node may
 * have checked the token before it applied the revocation, the log decides.
 */
export function checkStamp(s: StateDb, cmd: Command): void {
  const stamp = cmd.audit;
  if (!stamp || !isTokenId(stamp.tokenId)) return;
  const row = getToken(s, stamp.tokenId);
  if (!row) throw new AppError("UNAUTHORIZED", `token "${stamp.tokenName}" was revoked`);
  if (row.expiresAt !== null && row.expiresAt <= cmd.at)
    throw new AppError("UNAUTHORIZED", `token "${stamp.tokenName}" has expired`);
}

/** Creates a token; a bootstrap one only if none was made before. */
export function createToken(s: StateDb, cmd: TokenCreateCommand): void {
  // Every check before the first write: a refused command changes nothing.
  if (getToken(s, cmd.id)) throw new AppError("CONFLICT", `token id ${cmd.id} exists`);
  if (cmd.bootstrap) {
    if (authBootstrapped(s)) throw new AppError("CONFLICT", "the first admin token was already created");
    markAuthBootstrapped(s);
  }
  s.db
    .insert(tokens)
    .values({
      id: cmd.id,
      name: cmd.name,
      hash: cmd.hash,
      scopes: cmd.scopes.join(","),
      prefix: cmd.prefix,
      createdAt: cmd.at,
      createdBy: cmd.createdBy,
      expiresAt: cmd.expiresAt,
    })
    .run();
}

/** Deletes a token: every node refuses it from this entry on. */
export function revokeToken(s: StateDb, id: string): void {
  if (s.db.delete(tokens).where(eq(tokens.id, id)).run().changes === 0)
    throw new AppError("NOT_FOUND", `token "${id}" not found`, { field: "id" });
}

/** Moves tokens' last-used times forward (never back: batches from several nodes may cross). */
export function recordUses(s: StateDb, uses: { id: string; at: number }[]): void {
  for (const u of uses)
    s.db
      .update(tokens)
      .set({ lastUsedAt: u.at })
      .where(and(eq(tokens.id, u.id), sql`coalesce(${tokens.lastUsedAt}, 0) < ${u.at}`))
      .run();
}

/** Writes the audit record of an entry with its outcome, and drops records past the retention. */
export function recordAudit(
  s: StateDb,
  index: number,
  at: number,
  stamp: AuditStamp,
  outcome: { ok: true } | { ok: false; error: { code: string; message: string } },
): void {
  const q = auditStatements(s);
  q.insert.run({
    index,
    at,
    tokenId: stamp.tokenId,
    tokenName: stamp.tokenName,
    action: stamp.action,
    target: stamp.target,
    client: stamp.client,
    outcome: outcome.ok ? "ok" : outcome.error.code,
    detail: outcome.ok ? (stamp.detail ?? "") : outcome.error.message,
  });
  q.prune.run({ before: at - stamp.retainMs });
}
