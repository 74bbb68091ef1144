import { z } from "zod";
import { type AuditEntryJson, AuditListParams } from "./audit";
import type { DeliveryRecordJson, OverviewJson, RecentRunJson, SelfJson, TailJson } from "./dashboard";
import type { ExecutionJson } from "./execution";
import { DEFAULT_PREVIEW_RUNS, MAX_PREVIEW_RUNS, type SchedulePreviewJson } from "./expression-preview";
import type { KeyringListJson } from "./gossip-keyring";
import type { JobJson } from "./job";
import type { Member, NodeStatus } from "./member";
import type { CreatedJoinTokenJson, JoinTokenJson, RunnerJoinedJson, RunnerJson } from "./runner-token";
import type { PreviewEntry } from "./schedule-preview";
import type { CreatedTokenJson, TokenJson } from "./token";
import {
  type CreatedWebhookJson,
  DeliveryHeadersSchema,
  type DeliveryJson,
  type WebhookJson,
} from "./webhook";

/**
 * The edge-to-control contract: one RPC endpoint per method, `POST /_control/rpc/<method>` with a
 * JSON params body; 200 with the JSON result, or an error body `{"error":{code,message,...}}` with
 * the status from shared/errors.ts. Params are validated by the control side with these schemas.
 */
export const CONTROL_RPC_PREFIX = "/_control/rpc/";

const jobName = z.string().min(1);

/** GET /v1/jobs query, already decoded by the edge. */
export const JobListParams = z.object({
  q: z.string().optional(),
  status: z.string().optional(),
  disabled: z.enum(["true", "false"]).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  /** Our extension: jobs of this owner only. */
  owner: z.string().optional(),
  /** Our extension: jobs whose target tags include every entry (`tags[k]=v`; v without `:count`). */
  tags: z.record(z.string(), z.string()).optional(),
  sort: z.string().default("name"),
  order: z.enum(["ASC", "DESC"]).default("ASC"),
  start: z.number().int().min(0).default(0),
  end: z.number().int().min(0).optional(),
  stale: z.boolean().optional(),
});

/** GET /v1/jobs/:job/executions query. */
export const ExecutionListParams = z.object({
  job: jobName,
  sort: z.string().default("started_at"),
  order: z.enum(["ASC", "DESC"]).default("DESC"),
  start: z.number().int().min(0).default(0),
  end: z.number().int().min(0).optional(),
  output_size_limit: z.number().int().min(0).optional(),
  stale: z.boolean().optional(),
});

/** Param schemas per method; the result types are in ControlResults. */
export const ControlParams = {
  status: z.object({}),
  "members.list": z.object({}),
  "leader.get": z.object({}),
  leave: z.object({}),
  busy: z.object({}),
  "pause.get": z.object({}),
  "pause.set": z.object({ paused: z.boolean() }),
  "jobs.list": JobListParams,
  "jobs.get": z.object({
    name: jobName,
    stale: z.boolean().optional(),
    /** List the job's next N runs as `next_runs` (GET /v1/jobs/:job?next=N). */
    next: z.number().int().min(1).max(MAX_PREVIEW_RUNS).optional(),
  }),
  "jobs.put": z.object({
    job: z.unknown(),
    runoncreate: z.boolean().default(false),
    path_name: z.string().optional(),
  }),
  "jobs.delete": z.object({ name: jobName }),
  "jobs.run": z.object({ name: jobName }),
  /** Flips disabled (Dkron's toggle); with `disabled`, sets it (idempotent). */
  "jobs.toggle": z.object({ name: jobName, disabled: z.boolean().optional() }),
  "executions.list": ExecutionListParams,
  "executions.get": z.object({ job: jobName, id: z.string().min(1) }),
  "executions.clear": z.object({ job: jobName }),
  restore: z.object({ jobs: z.unknown() }),
  /** GET /v1/schedule/preview: an unsaved schedule's next runs; `from` defaults to control's now. */
  "schedule.preview": z.object({
    schedule: z.string(),
    timezone: z.string().default(""),
    dst: z.string().default("auto"),
    n: z.number().int().min(1).max(MAX_PREVIEW_RUNS).default(DEFAULT_PREVIEW_RUNS),
    from: z.number().int().optional(),
    name: z.string().default(""),
  }),
  /** The body is checked by control against TokenCreateSchema, so errors name its fields. */
  "tokens.create": z.object({ token: z.unknown() }),
  "tokens.list": z.object({}),
  "tokens.revoke": z.object({ id: z.string().min(1) }),
  /** A node's batch of token uses for the leader to commit (internal to the cluster). */
  "tokens.touch": z.object({
    uses: z.array(z.object({ id: z.string(), at: z.number().int() })).max(100_000),
  }),
  "audit.list": AuditListParams,
  /** The body is checked by control against WebhookCreateSchema, so errors name its fields. */
  "webhooks.create": z.object({ hook: z.unknown() }),
  "webhooks.list": z.object({ job: jobName.optional() }),
  "webhooks.get": z.object({ id: z.string().min(1) }),
  "webhooks.delete": z.object({ id: z.string().min(1) }),
  /** POST /hooks/:id: the raw body and signature headers; the signature is the credential. */
  "hooks.deliver": z.object({ id: z.string().min(1), body: z.string(), headers: DeliveryHeadersSchema }),
  /** Gives a hook a new secret (the old one stops verifying at once); answered once with it. */
  "webhooks.rotate": z.object({ id: z.string().min(1) }),
  /** The delivery ids a hook accepted within its replay window, newest first. */
  "webhooks.deliveries": z.object({ id: z.string().min(1) }),
  /** The caller's own token: name, scopes, prefix (the dashboard shows only what it may do). */
  "tokens.self": z.object({}),
  /** The dashboard's overview: counts, failures, executions per hour, the fire heatmap. */
  "dashboard.overview": z.object({}),
  /** Each named job's last `n` runs (newest first), for the list's sparklines. */
  "dashboard.recent": z.object({
    names: z.array(jobName).max(200),
    n: z.number().int().min(1).max(50).default(20),
  }),
  /** An execution's live output from offset `from` (the leader holds it); the final state once done. */
  "executions.tail": z.object({
    job: jobName,
    id: z.string().min(1),
    from: z.number().int().min(0).default(0),
  }),
  /** The body is checked by control against JoinTokenCreateSchema, so errors name its fields. */
  "runner-tokens.create": z.object({ token: z.unknown() }),
  "runner-tokens.list": z.object({}),
  "runner-tokens.revoke": z.object({ id: z.string().min(1) }),
  /** POST /v1/runners/join: the body (checked against RunnerJoinSchema) carries the join token. */
  "runners.join": z.object({ join: z.unknown() }),
  "runners.list": z.object({}),
  "runners.revoke": z.object({ name: z.string().min(1) }),
  /** GET /v1/keys: the gossip keyring and how many live members hold each key (admin: keys are shown). */
  "keys.list": z.object({}),
  /** POST /v1/keys: the body (checked against KeyRequestSchema) names the key to install everywhere. */
  "keys.install": z.object({ body: z.unknown() }),
  /** PUT /v1/keys: make an installed key the primary (the one that encrypts). */
  "keys.use": z.object({ body: z.unknown() }),
  /** DELETE /v1/keys: drop a key that is not the primary. */
  "keys.remove": z.object({ body: z.unknown() }),
} as const;

/** Method names of the contract. */
export type ControlMethod = keyof typeof ControlParams;

/** Result type per method. */
export interface ControlResults {
  status: NodeStatus;
  "members.list": Member[];
  "leader.get": Member | null;
  leave: { left: string };
  busy: ExecutionJson[];
  "pause.get": { paused: boolean };
  "pause.set": { paused: boolean };
  "jobs.list": { total: number; items: JobJson[] };
  /** With `next`, the job's next runs (none for child, @manually and disabled jobs). */
  "jobs.get": JobJson & { next_runs?: PreviewEntry[] };
  "jobs.put": JobJson;
  "jobs.delete": JobJson;
  "jobs.run": JobJson;
  "jobs.toggle": JobJson;
  "executions.list": { total: number; items: ExecutionJson[] };
  "executions.get": ExecutionJson;
  "executions.clear": JobJson;
  restore: string[];
  "schedule.preview": SchedulePreviewJson;
  "tokens.create": CreatedTokenJson;
  "tokens.list": TokenJson[];
  "tokens.revoke": TokenJson;
  "tokens.touch": { recorded: number };
  "audit.list": { total: number; items: AuditEntryJson[] };
  "webhooks.create": CreatedWebhookJson;
  "webhooks.list": WebhookJson[];
  "webhooks.get": WebhookJson;
  "webhooks.delete": WebhookJson;
  "hooks.deliver": DeliveryJson;
  "webhooks.rotate": CreatedWebhookJson;
  "webhooks.deliveries": DeliveryRecordJson[];
  "tokens.self": SelfJson;
  "dashboard.overview": OverviewJson;
  "dashboard.recent": Record<string, RecentRunJson[]>;
  "executions.tail": TailJson;
  "runner-tokens.create": CreatedJoinTokenJson;
  "runner-tokens.list": JoinTokenJson[];
  "runner-tokens.revoke": JoinTokenJson;
  "runners.join": RunnerJoinedJson;
  "runners.list": RunnerJson[];
  "runners.revoke": RunnerJson;
  "keys.list": KeyringListJson;
  "keys.install": KeyringListJson;
  "keys.use": KeyringListJson;
  "keys.remove": KeyringListJson;
}

/** Input type per method (before defaults). */
export type ControlInput<M extends ControlMethod> = z.input<(typeof ControlParams)[M]>;
/** Parsed params per method. */
export type ControlParamsOf<M extends ControlMethod> = z.output<(typeof ControlParams)[M]>;
