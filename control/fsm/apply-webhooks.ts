import { and, eq, gte, inArray, lt } from "drizzle-orm";
import { AppError } from "../../shared";
import { getJobRow, getWebhook, type StateDb, webhookDeliveries, webhooks } from "../store";
import type { DeliveryMark, ExecutionStartCommand, WebhookPutCommand } from "./commands";

// The webhook part of the state machine: hooks, and the delivery ids each accepted. A delivery is an
// `execution.start` carrying a DeliveryMark; because the record of it is replicated state, a replay
// is refused by every node that ever leads, not only by the one that saw the first delivery.

/** Creates a hook for an existing job. */
export function putWebhook(s: StateDb, cmd: WebhookPutCommand): void {
  if (!getJobRow(s, cmd.job)) throw new AppError("NOT_FOUND", `job "${cmd.job}" not found`, { field: "job" });
  if (getWebhook(s, cmd.id)) throw new AppError("CONFLICT", `webhook id ${cmd.id} exists`, { field: "id" });
  s.db
    .insert(webhooks)
    .values({ id: cmd.id, job: cmd.job, secret: cmd.secret, createdAt: cmd.at, createdBy: cmd.createdBy })
    .run();
}

/** Deletes a hook and the delivery ids it remembered. */
export function deleteWebhook(s: StateDb, id: string): void {
  if (!getWebhook(s, id)) throw new AppError("NOT_FOUND", `webhook "${id}" not found`, { field: "id" });
  s.db.delete(webhookDeliveries).where(eq(webhookDeliveries.hookId, id)).run();
  s.db.delete(webhooks).where(eq(webhooks.id, id)).run();
}

/** Replaces a hook's secret (its delivery ids stay: a replay is still a replay). */
export function rotateWebhook(s: StateDb, id: string, secret: string): void {
  if (!getWebhook(s, id)) throw new AppError("NOT_FOUND", `webhook "${id}" not found`, { field: "id" });
  s.db.update(webhooks).set({ secret }).where(eq(webhooks.id, id)).run();
}

/** Deletes every hook of a job (the job is being deleted) with their delivery ids. */
export function deleteJobWebhooks(s: StateDb, job: string): void {
  const ids = s.db.select({ id: webhooks.id }).from(webhooks).where(eq(webhooks.job, job)).all();
  if (!ids.length) return;
  s.db
    .delete(webhookDeliveries)
    .where(
      inArray(
        webhookDeliveries.hookId,
        ids.map((r) => r.id),
      ),
    )
    .run();
  s.db.delete(webhooks).where(eq(webhooks.job, job)).run();
}

/**
 * Refuses a delivery start before anything is written: its hook must still exist and run this job,
 * its delivery id must not have been accepted within the retention, and its job must be enabled.
 */
export function checkDelivery(s: StateDb, cmd: ExecutionStartCommand, disabled: boolean): void {
  const mark = cmd.delivery;
  if (mark) {
    const hook = getWebhook(s, mark.hook);
    if (!hook || hook.job !== cmd.job)
      throw new AppError("NOT_FOUND", `webhook "${mark.hook}" not found`, { field: "hook" });
    const seen = s.db
      .select({ at: webhookDeliveries.at })
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.hookId, mark.hook),
          inArray(webhookDeliveries.deliveryId, deliveryKeys(mark)),
          gte(webhookDeliveries.at, cmd.at - mark.retainMs),
        ),
      )
      .get();
    if (seen)
      throw new AppError("CONFLICT", `delivery ${mark.id} of hook ${mark.hook} was already accepted`, {
        field: "delivery",
        accepted_at: new Date(seen.at).toISOString(),
      });
  }
  if (disabled && (mark || cmd.trigger === "webhook"))
    throw new AppError(
      "CONFLICT",
      `job "${cmd.job}" is disabled; its webhook runs nothing until it is enabled`,
      {
        field: "disabled",
      },
    );
}

/**
 * Records an accepted delivery (after checkDelivery passed) and drops delivery ids older than the
 * retention, by the command's time so every replica prunes alike.
 */
export function recordDelivery(s: StateDb, at: number, mark: DeliveryMark | undefined): void {
  if (!mark) return;
  s.db
    .delete(webhookDeliveries)
    .where(lt(webhookDeliveries.at, at - mark.retainMs))
    .run();
  for (const key of deliveryKeys(mark))
    s.db
      .insert(webhookDeliveries)
      .values({ hookId: mark.hook, deliveryId: key, at })
      .onConflictDoUpdate({ target: [webhookDeliveries.hookId, webhookDeliveries.deliveryId], set: { at } })
      .run();
  s.db.update(webhooks).set({ lastDeliveryAt: at }).where(eq(webhooks.id, mark.hook)).run();
}

/** The keys a delivery is remembered under: its id, and its signature when that differs. */
function deliveryKeys(mark: DeliveryMark): string[] {
  return mark.signature && mark.signature !== mark.id ? [mark.id, `sig:${mark.signature}`] : [mark.id];
}
