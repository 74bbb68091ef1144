import { asc, eq } from "drizzle-orm";
import type { StateDb } from "./db";
import { executions, webhooks } from "./schema";

/** A webhooks row as drizzle returns it (its secret included: never render it). */
export type WebhookRow = typeof webhooks.$inferSelect;

/** One hook, or undefined. */
export function getWebhook(s: StateDb, id: string): WebhookRow | undefined {
  return s.db.select().from(webhooks).where(eq(webhooks.id, id)).get();
}

/** Hooks (of one job, or all), oldest first. */
export function listWebhooks(s: StateDb, job?: string): WebhookRow[] {
  const q = s.db.select().from(webhooks);
  return (job === undefined ? q : q.where(eq(webhooks.job, job)))
    .orderBy(asc(webhooks.createdAt), asc(webhooks.id))
    .all();
}

/** The webhook payload an execution carries (its delivery's body), or undefined. */
export function executionPayload(s: StateDb, id: string): string | undefined {
  const row = s.db
    .select({ payload: executions.payload })
    .from(executions)
    .where(eq(executions.id, id))
    .get();
  return row?.payload ?? undefined;
}
