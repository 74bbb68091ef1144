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

/** The delivery ids a hook accepted within its replay window, newest first (signature keys left out). */
export function hookDeliveries(s: StateDb, hookId: string, limit = 50): { delivery: string; at: number }[] {
  return s.sqlite
    .prepare(
      "SELECT delivery_id AS delivery, at FROM webhook_deliveries WHERE hook_id = ? AND delivery_id NOT LIKE 'sig:%' ORDER BY at DESC LIMIT ?",
    )
    .all(hookId, limit) as { delivery: string; at: number }[];
}
