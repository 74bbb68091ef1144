import { eq } from "drizzle-orm";
import { AppError, mergeRunnerTags } from "../../shared";
import {
  getJoinToken,
  getRunner,
  type JoinTokenRow,
  runnerJoinTokens,
  runners,
  type StateDb,
} from "../store";
import type { JoinTokenCreateCommand, RunnerJoinCommand } from "./commands";

/** Creates a join token. */
export function createJoinToken(s: StateDb, cmd: JoinTokenCreateCommand): void {
  if (getJoinToken(s, cmd.id)) throw new AppError("CONFLICT", `join token id ${cmd.id} exists`);
  s.db
    .insert(runnerJoinTokens)
    .values({
      id: cmd.id,
      hash: cmd.hash,
      tags: JSON.stringify(cmd.tags),
      singleUse: cmd.singleUse ? 1 : 0,
      createdAt: cmd.at,
      createdBy: cmd.createdBy,
      expiresAt: cmd.expiresAt,
    })
    .run();
}

/** Deletes a join token. */
export function revokeJoinToken(s: StateDb, id: string): void {
  if (s.db.delete(runnerJoinTokens).where(eq(runnerJoinTokens.id, id)).run().changes === 0)
    throw new AppError("NOT_FOUND", `join token "${id}" not found`, { field: "id" });
}

/**
 * Why a join would be refused, thrown as the apply throws it: an unknown or mistyped token, an
 * expired or spent one, a name taken. The leader runs it before proposing too (after catching up),
 * so a caller with a made-up token writes nothing to the log; the apply's check stays the one that
 * counts.
 */
export function refuseJoin(s: StateDb, cmd: RunnerJoinCommand): JoinTokenRow {
  const t = getJoinToken(s, cmd.tokenId);
  // One message for gone and wrong secret: the caller learns nothing about which ids exist.
  if (!t || t.hash !== cmd.tokenHash)
    throw new AppError("UNAUTHORIZED", "join token not recognised (revoked, or mistyped)", {
      field: "token",
    });
  if (t.expiresAt !== null && t.expiresAt <= cmd.at)
    throw new AppError(
      "UNAUTHORIZED",
      `join token ${t.id} expired at ${new Date(t.expiresAt).toISOString()}`,
      {
        field: "token",
      },
    );
  if (t.singleUse && t.uses > 0)
    throw new AppError(
      "UNAUTHORIZED",
      `join token ${t.id} was single-use and is already used (by ${t.usedBy})`,
      {
        field: "token",
      },
    );
  if (getRunner(s, cmd.name))
    throw new AppError(
      "CONFLICT",
      `a runner named "${cmd.name}" is already registered; revoke it first or pick another --name`,
      {
        field: "name",
      },
    );
  return t;
}

/**
 * Registers a runner and spends its join token in one step. Every check comes before the first
 * write and reads only the log's state, so the second use of a single-use token is refused here,
 * identically on every replica, even when two leaders in turn accepted the two requests.
 */
export function joinRunner(s: StateDb, cmd: RunnerJoinCommand): { tags: Record<string, string> } {
  const t = refuseJoin(s, cmd);
  const tags = JSON.parse(t.tags) as Record<string, string>;
  s.db
    .update(runnerJoinTokens)
    .set({ uses: t.uses + 1, usedAt: cmd.at, usedBy: cmd.name })
    .where(eq(runnerJoinTokens.id, t.id))
    .run();
  s.db
    .insert(runners)
    .values({
      name: cmd.name,
      credentialId: cmd.credentialId,
      hash: cmd.credentialHash,
      tags: t.tags,
      joinedAt: cmd.at,
      joinToken: t.id,
    })
    .run();
  return { tags: mergeRunnerTags({}, tags) };
}

/** Deletes a runner's registration and credential. */
export function revokeRunner(s: StateDb, name: string): void {
  if (s.db.delete(runners).where(eq(runners.name, name)).run().changes === 0)
    throw new AppError("NOT_FOUND", `runner "${name}" not found`, { field: "name" });
}
