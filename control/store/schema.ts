import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Key/value metadata of the state machine; `last_applied` lives here, written in every apply. */
export const meta = sqliteTable("meta", {
  key: text("key").primaryKey(),
  value: integer("value").notNull(),
});

/** Jobs: the user's spec as JSON plus the server-maintained state in columns. */
export const jobs = sqliteTable(
  "jobs",
  {
    name: text("name").primaryKey(),
    spec: text("spec").notNull(),
    parentJob: text("parent_job").notNull().default(""),
    successCount: integer("success_count").notNull().default(0),
    errorCount: integer("error_count").notNull().default(0),
    lastSuccess: integer("last_success"),
    lastError: integer("last_error"),
    /** Scheduled slots passed over because a `concurrency: forbid` run was still going (a counter). */
    skippedCount: integer("skipped_count").notNull().default(0),
    /** The latest slot so passed over (its scheduled time), or null. */
    lastSkipped: integer("last_skipped"),
    status: text("status").notNull().default(""),
    /** Cadence origin for @every: the instant the schedule was last set. */
    anchor: integer("anchor").notNull(),
    /** No scheduled slot at or before this instant may start: the at-most-once fence. */
    cursor: integer("cursor").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    // Copies of spec fields and derived times, kept by apply so lists filter, sort and page in SQL
    // and the scheduler loads only the jobs due soon (see job-index.ts).
    displayname: text("displayname").notNull().default(""),
    owner: text("owner").notNull().default(""),
    schedule: text("schedule").notNull().default(""),
    disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
    /** The first slot after the cursor (within starts_at/expires_at), or null: `next` once it is future. */
    nextFire: integer("next_fire"),
    /** When the scheduler must plan the job next: next_fire, or an earlier DST skip to record. */
    wakeAt: integer("wake_at"),
    /** Which build's rules filled the columns above; rows below INDEX_VERSION are refilled at open. */
    indexVersion: integer("index_version").notNull().default(0),
  },
  (t) => [
    index("jobs_parent_idx").on(t.parentJob),
    index("jobs_displayname_idx").on(t.displayname, t.name),
    index("jobs_owner_idx").on(t.owner, t.name),
    index("jobs_schedule_idx").on(t.schedule, t.name),
    index("jobs_success_count_idx").on(t.successCount, t.name),
    index("jobs_error_count_idx").on(t.errorCount, t.name),
    index("jobs_skipped_count_idx").on(t.skippedCount, t.name),
    index("jobs_last_success_idx").on(t.lastSuccess, t.name),
    index("jobs_last_error_idx").on(t.lastError, t.name),
    index("jobs_next_fire_idx").on(t.nextFire, t.name),
    // Covering for a list filtered by metadata or tags and sorted by next: each matching job's
    // next_fire is read from here rather than from its row (jobs-list queries).
    index("jobs_name_next_fire_idx").on(t.name, t.nextFire),
    index("jobs_status_idx").on(t.status, t.name),
    index("jobs_disabled_idx").on(t.disabled, t.name),
    index("jobs_wake_idx").on(t.wakeAt),
    index("jobs_index_version_idx").on(t.indexVersion),
  ],
);

/** A job's metadata entries, one row each, kept by apply: `metadata[k]=v` filters by index. */
export const jobMetadata = sqliteTable(
  "job_metadata",
  {
    job: text("job").notNull(),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.job, t.key] }), index("job_metadata_kv_idx").on(t.key, t.value, t.job)],
);

/**
 * A job's target tags, one row each, kept by apply: the dashboard's tag filter by index. The value is
 * the tag's match value without Dkron's `:count` cardinality ("web:2" is stored as "web").
 */
export const jobTags = sqliteTable(
  "job_tags",
  {
    job: text("job").notNull(),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.job, t.key] }), index("job_tags_kv_idx").on(t.key, t.value, t.job)],
);

/** One row per execution (target node × attempt). */
export const executions = sqliteTable(
  "executions",
  {
    id: text("id").primaryKey(),
    jobName: text("job_name").notNull(),
    group: integer("group_id").notNull(),
    attempt: integer("attempt").notNull(),
    nodeName: text("node_name").notNull(),
    trigger: text("trigger").notNull(),
    scheduledAt: integer("scheduled_at").notNull(),
    /**
     * When the process (or request) started, by the runner's clock, once the runner reported it
     * (`startReported`); until then, and for a run that never reached a runner, `dispatchedAt`.
     */
    startedAt: integer("started_at").notNull(),
    /** When the leader dispatched the run: the time stamped on its `execution.start`. */
    dispatchedAt: integer("dispatched_at").notNull().default(0),
    /** Whether `startedAt` is the runner's report of the start. */
    startReported: integer("start_reported", { mode: "boolean" }).notNull().default(false),
    finishedAt: integer("finished_at"),
    state: text("state").notNull(),
    success: integer("success", { mode: "boolean" }).notNull().default(false),
    output: text("output").notNull().default(""),
    exitCode: integer("exit_code"),
    /** A webhook delivery's body, handed to the job (a file for shell, the request body for http). */
    payload: text("payload"),
  },
  (t) => [
    index("executions_job_started_idx").on(t.jobName, t.startedAt),
    index("executions_job_group_idx").on(t.jobName, t.group),
    index("executions_state_idx").on(t.state),
    /** The dashboard's executions per hour and failures of the last day, across all jobs. */
    index("executions_started_idx").on(t.startedAt),
  ],
);

/** Control-node addresses, replicated so every node can reach every peer it learns of. */
export const peers = sqliteTable("peers", {
  id: text("id").primaryKey(),
  addr: text("addr").notNull(),
});

/**
 * Dependent runs owed: one row per child job and parent success, written by the apply that
 * completed the parent's run group successfully and removed by the apply of the child's start.
 * Replicated, so whichever node leads next starts what the previous leader did not.
 */
export const owedDependentRuns = sqliteTable(
  "owed_dependent_runs",
  {
    /** The child job to start. */
    jobName: text("job_name").notNull(),
    /** Log index of the parent's `execution.finish` that made the run owed: its idempotency key. */
    mark: integer("mark").notNull(),
    parentJob: text("parent_job").notNull(),
    parentGroup: integer("parent_group").notNull(),
    /** When the parent's success was committed (the finish command's time); the child's slot time. */
    owedAt: integer("owed_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobName, t.mark] })],
);

/**
 * REST API tokens. Only the SHA-256 of the secret is kept (secrets are 256 random bits, so a fast
 * hash is enough); revoking deletes the row, so a revoked token fails on every node at the entry
 * that removed it.
 */
export const tokens = sqliteTable("tokens", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** Hex SHA-256 of the secret half of the token. */
  hash: text("hash").notNull(),
  /** Comma-separated scopes: read, write, run, admin. */
  scopes: text("scopes").notNull(),
  /** Job-name prefix the token is limited to; empty = every job. */
  prefix: text("prefix").notNull().default(""),
  createdAt: integer("created_at").notNull(),
  /** Who created it: a token id, or "bootstrap" for the first start's admin token. */
  createdBy: text("created_by").notNull().default(""),
  expiresAt: integer("expires_at"),
  /** Last use as last flushed (nodes batch uses in memory and commit them now and then). */
  lastUsedAt: integer("last_used_at"),
});

/**
 * The audit log: one row per state-changing call, written by the apply of the same log entry as the
 * change (or its refusal), so the record and the change commit together or not at all.
 */
export const audit = sqliteTable(
  "audit",
  {
    /** The log index of the entry; `seq` orders records within one entry (a restore's jobs). */
    index: integer("log_index").notNull(),
    seq: integer("seq").notNull().default(0),
    at: integer("at").notNull(),
    tokenId: text("token_id").notNull(),
    tokenName: text("token_name").notNull(),
    action: text("action").notNull(),
    /** What was acted on: a job name, token id, hook id; empty for cluster-wide actions. */
    target: text("target").notNull().default(""),
    /** The API client's address as the edge saw it. */
    client: text("client").notNull().default(""),
    /** "ok", or the error code the state machine refused the change with. */
    outcome: text("outcome").notNull(),
    /** The refusal's message, or a short note on what changed. */
    detail: text("detail").notNull().default(""),
  },
  (t) => [
    primaryKey({ columns: [t.index, t.seq] }),
    index("audit_at_idx").on(t.at),
    index("audit_target_idx").on(t.target, t.at),
    index("audit_token_idx").on(t.tokenId, t.at),
  ],
);

/**
 * Webhooks: a signed POST /hooks/<id> runs `job`. The signing secret must be kept to check an HMAC
 * (unlike a token's, it cannot be a hash); it never leaves the state machine after creation.
 */
export const webhooks = sqliteTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    job: text("job").notNull(),
    secret: text("secret").notNull(),
    createdAt: integer("created_at").notNull(),
    createdBy: text("created_by").notNull().default(""),
    lastDeliveryAt: integer("last_delivery_at"),
  },
  (t) => [index("webhooks_job_idx").on(t.job)],
);

/** Delivery ids a hook has accepted, kept for the replay window: a second delivery of one is refused. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    hookId: text("hook_id").notNull(),
    deliveryId: text("delivery_id").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.hookId, t.deliveryId] }), index("webhook_deliveries_at_idx").on(t.at)],
);

/**
 * Runner join tokens: a runner exchanges one for its own credential (POST /v1/runners/join). Only
 * the SHA-256 of the secret is kept. A single-use token is burned (`usedAt`, `usedBy`) by the apply
 * of the same entry that registers the runner, so a second use is refused on every node.
 */
export const runnerJoinTokens = sqliteTable("runner_join_tokens", {
  id: text("id").primaryKey(),
  hash: text("hash").notNull(),
  /** Tags given to every runner that joins with it, as JSON; they win over the runner's own. */
  tags: text("tags").notNull().default("{}"),
  singleUse: integer("single_use").notNull().default(0),
  createdAt: integer("created_at").notNull(),
  createdBy: text("created_by").notNull().default(""),
  expiresAt: integer("expires_at"),
  /** When a runner last joined with it (a single-use token is spent from then on). */
  usedAt: integer("used_at"),
  usedBy: text("used_by"),
  /** How many runners joined with it. */
  uses: integer("uses").notNull().default(0),
});

/**
 * Registered remote runners and their credentials (only the SHA-256 of the secret). Revoking deletes
 * the row: the hub closes the runner's stream on that apply, and the credential fails on every node.
 */
export const runners = sqliteTable("runners", {
  name: text("name").primaryKey(),
  /** The credential's id (the middle part of `drc.<id>.<secret>`), unique per registration. */
  credentialId: text("credential_id").notNull().unique(),
  hash: text("hash").notNull(),
  /** The join token's tags, as JSON: merged over what the runner says in its hello. */
  tags: text("tags").notNull().default("{}"),
  joinedAt: integer("joined_at").notNull(),
  /** The join token it came with. */
  joinToken: text("join_token").notNull(),
});

/**
 * The gossip keyring every member should hold (one row, id 1): installed keys as a JSON array,
 * the primary (the one that encrypts) first. Absent until the first `keys install`: until then each
 * node uses its own --encrypt keys. The keys are here and in the Raft log because every control node
 * applies them to its own gossip socket and the leader hands them to its runners.
 */
export const gossipKeyring = sqliteTable("gossip_keyring", {
  id: integer("id").primaryKey(),
  keys: text("keys").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
