import {
  AppError,
  type Clock,
  type ControlParamsOf,
  type ControlResults,
  hookPath,
  parseOrThrow,
  WEBHOOK_DELIVERY_RETENTION_MS,
  WebhookCreateSchema,
  type WebhookJson,
} from "../../shared";
import { coversJob, type Identity, mustCoverJob } from "../auth";
import type { Dispatcher } from "../dispatch";
import type { AuditStamp, Command } from "../fsm";
import {
  getStoredJob,
  getWebhook,
  hookDeliveries,
  listWebhooks,
  type StateDb,
  type WebhookRow,
} from "../store";
import { mintHook, verifyDelivery } from "../webhooks";

/** What the webhook methods need from the control service. */
export interface WebhookServiceDeps {
  state: StateDb;
  clock: Clock;
  dispatcher: Dispatcher;
  /** Random strings (at least 16 base64url characters) for hook ids and secrets. */
  secret: () => string;
  /** Proposes a write on the leader, audited for `who`; a rejection throws the AppError it names. */
  write: (cmd: Command, who: Identity, target: string, detail?: string) => Promise<void>;
  /** The audit stamp of a change asked for by `who`. */
  stamp: (who: Identity, action: string, target: string, detail?: string) => AuditStamp;
  /** How long accepted delivery ids are remembered (default WEBHOOK_DELIVERY_RETENTION_MS). */
  deliveryRetentionMs?: number;
}

/**
 * The webhook methods of the control-api: hooks are created, listed and deleted as commands, and a
 * delivery is verified here, on the control side where the secret is, then started as a run whose
 * `execution.start` carries the body and the delivery id (the state machine refuses a replay).
 */
export class WebhookService {
  constructor(private readonly d: WebhookServiceDeps) {}

  /** Binds a new hook to a job; the answer is the only place its secret appears. */
  async create(body: unknown, who: Identity): Promise<ControlResults["webhooks.create"]> {
    const req = parseOrThrow(WebhookCreateSchema, body, "webhook");
    // A hook runs its job, so making one needs write on that job (a prefix token: one it covers).
    mustCoverJob(who, req.job);
    if (!getStoredJob(this.d.state, req.job))
      throw new AppError("NOT_FOUND", `job "${req.job}" not found`, { field: "job" });
    const { id, secret } = mintHook(this.d.secret);
    await this.d.write(
      { type: "webhook.put", at: this.d.clock.now(), id, job: req.job, secret, createdBy: who.tokenId },
      who,
      id,
      `for job ${req.job}`,
    );
    return { ...webhookToJson(this.mustHook(id)), secret };
  }

  /** Hooks, of one job or all, that `who` may see (a prefix token: its jobs' hooks). */
  list(p: ControlParamsOf<"webhooks.list">, who: Identity): WebhookJson[] {
    if (p.job !== undefined) mustCoverJob(who, p.job);
    return listWebhooks(this.d.state, p.job)
      .filter((h) => coversJob(who, h.job))
      .map(webhookToJson);
  }

  /** One hook. */
  get(id: string, who: Identity): WebhookJson {
    return webhookToJson(this.mustHook(id, who));
  }

  /** Deletes a hook; answers what it was. */
  async delete(id: string, who: Identity): Promise<WebhookJson> {
    const hook = this.mustHook(id, who);
    await this.d.write({ type: "webhook.delete", at: this.d.clock.now(), id }, who, id, `of job ${hook.job}`);
    return webhookToJson(hook);
  }

  /** Gives a hook a new secret; the answer is the only place it appears. Needs run, as create does. */
  async rotate(id: string, who: Identity): Promise<ControlResults["webhooks.rotate"]> {
    const hook = this.mustHook(id, who);
    const { secret } = mintHook(this.d.secret);
    await this.d.write(
      { type: "webhook.rotate", at: this.d.clock.now(), id, secret },
      who,
      id,
      `of job ${hook.job}`,
    );
    return { ...webhookToJson(this.mustHook(id)), secret };
  }

  /** The delivery ids a hook accepted within its replay window, newest first. */
  deliveries(id: string, who: Identity): ControlResults["webhooks.deliveries"] {
    this.mustHook(id, who);
    return hookDeliveries(this.d.state, id).map((d) => ({
      delivery: d.delivery,
      at: new Date(d.at).toISOString(),
    }));
  }

  /**
   * A delivery: unknown hook 404, bad or stale signature 401, then a start carrying the body and
   * the delivery id; the state machine refuses a replayed delivery and a disabled job (409), and
   * nothing runs then. Called on the leader (the method is a write).
   */
  async deliver(
    p: ControlParamsOf<"hooks.deliver">,
    who: Identity,
  ): Promise<ControlResults["hooks.deliver"]> {
    const hook = this.mustHook(p.id);
    const now = this.d.clock.now();
    const delivery = verifyDelivery({ secret: hook.secret, body: p.body, headers: p.headers, now });
    // Audited as the hook (the signature is its credential), accepted or refused by the log.
    const by: Identity = { ...who, tokenId: `hook:${hook.id}`, name: `hook:${hook.id}` };
    const res = await this.d.dispatcher.run(hook.job, "webhook", now, undefined, {
      audit: this.d.stamp(by, "hooks.deliver", hook.job, `delivery ${delivery.id}`),
      payload: p.body,
      delivery: {
        hook: hook.id,
        id: delivery.id,
        signature: delivery.signature,
        retainMs: this.d.deliveryRetentionMs ?? WEBHOOK_DELIVERY_RETENTION_MS,
      },
    });
    if (!res.ok) throw new AppError(res.error.code, res.error.message, res.error.details);
    if (!("executions" in res.value))
      throw new AppError("CONFLICT", `job "${hook.job}" did not start (${res.value.skipped})`);
    const ids = res.value.executions.map((e) => e.id);
    return { execution_id: ids[0] ?? "", executions: ids, job: hook.job, delivery: delivery.id };
  }

  /** A hook; with `who`, one whose job `who` covers (else FORBIDDEN). */
  private mustHook(id: string, who?: Identity): WebhookRow {
    const hook = getWebhook(this.d.state, id);
    if (!hook) throw new AppError("NOT_FOUND", `webhook "${id}" not found`, { field: "id" });
    if (who) mustCoverJob(who, hook.job);
    return hook;
  }
}

/** A hook as the API shows it (never its secret); `url` is relative: the edge knows its origin. */
export function webhookToJson(row: WebhookRow): WebhookJson {
  return {
    id: row.id,
    job: row.job,
    created_at: new Date(row.createdAt).toISOString(),
    last_delivery_at: row.lastDeliveryAt === null ? null : new Date(row.lastDeliveryAt).toISOString(),
    url: hookPath(row.id),
  };
}
