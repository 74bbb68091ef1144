import type {
  AppError,
  Execution,
  ExecutionState,
  JobCounters,
  JobSpec,
  KeyringOp,
  Trigger,
} from "../../shared";
import type { OwedRun } from "../store";
import type { GroupOutcome } from "./group-status";

/**
 * Every change to durable state is one of these commands, proposed to the log and applied by
 * `apply`. The proposer stamps time (`at`) and ids so apply stays deterministic on every replica.
 */
export type Command =
  /**
   * Creates or replaces a job. From POST /v1/restore it may carry `warnings`, stored with the spec
   * and replaced with it (a later put without them clears them), and the backup's `counters`,
   * merged into the stored ones as Dkron's Store.SetJob does.
   */
  (
    | { type: "job.put"; at: number; job: JobSpec; warnings?: string[]; counters?: JobCounters }
    | { type: "job.delete"; at: number; name: string }
    /** Flips `disabled`; with `disabled` set, sets it to that (idempotent: the dashboard's bulk enable/disable). */
    | { type: "job.toggle"; at: number; name: string; disabled?: boolean }
    | ExecutionStartCommand
    | ExecutionFinishCommand
    | ExecutionsStartCommand
    | ExecutionsFinishCommand
    | ExecutionsStartedCommand
    | { type: "executions.clear"; at: number; job: string }
    | { type: "noop"; at: number }
    /** Records where a control node's HTTP API is (Raft RPC rides on it). */
    | { type: "peer.set"; at: number; id: string; addr: string }
    | { type: "peer.remove"; at: number; id: string }
    | TokenCreateCommand
    | { type: "token.revoke"; at: number; id: string }
    /** Last-used times of tokens, batched by the nodes that saw the uses (never one entry per request). */
    | { type: "tokens.used"; at: number; uses: { id: string; at: number }[] }
    /** Only the audit record: for audited actions that change nothing replicated (pause, leave). */
    | { type: "audit.record"; at: number }
    /** Binds a signed webhook to a job; the secret is in the log because verifying needs it. */
    | WebhookPutCommand
    /** Removes a hook and the delivery ids it remembered. */
    | { type: "webhook.delete"; at: number; id: string }
    /** Gives a hook a new secret: deliveries signed with the old one are refused from this entry on. */
    | { type: "webhook.rotate"; at: number; id: string; secret: string }
    /** Creates a runner join token (only its hash is in the log). */
    | JoinTokenCreateCommand
    /** Deletes a join token: no runner joins with it from this entry on (joined ones keep their credential). */
    | { type: "runner-token.revoke"; at: number; id: string }
    /** Registers a runner with its credential and burns a single-use join token, in one entry. */
    | RunnerJoinCommand
    /** Deletes a runner's credential; the leader's hub closes its stream on this apply. */
    | { type: "runner.revoke"; at: number; name: string }
    /** Installs, uses or removes a gossip key (Serf's keyring operations), cluster-wide. */
    | GossipKeysCommand
  ) & {
    /**
     * Who asked for this change, recorded in the audit log by the apply of this same entry, with the
     * outcome. A stamp naming a token is refused if the token is gone (revoked) or expired at `at`,
     * so no node can act on a revoked token, whatever it had applied when it checked.
     */
    audit?: AuditStamp;
  };

/** Who asked for a change, as the audit log records it. */
export interface AuditStamp {
  tokenId: string;
  tokenName: string;
  /** The control-api method, e.g. "jobs.put". */
  action: string;
  /** The job, token or hook acted on; "" for cluster-wide actions. */
  target: string;
  client: string;
  /** A short note on what changed ("paused", "created"), kept with the record. */
  detail?: string;
  /** Keep audit records this long (the proposer's setting), pruned by the same apply. */
  retainMs: number;
}

/** Creates a REST API token; only the hash of its secret is in the log. */
export interface TokenCreateCommand {
  type: "token.create";
  at: number;
  id: string;
  name: string;
  hash: string;
  scopes: string[];
  prefix: string;
  expiresAt: number | null;
  createdBy: string;
  /** The first start's admin token: refused once the cluster has made one. */
  bootstrap?: boolean;
}

/** Creates a runner join token. */
export interface JoinTokenCreateCommand {
  type: "runner-token.create";
  at: number;
  id: string;
  hash: string;
  tags: Record<string, string>;
  singleUse: boolean;
  expiresAt: number;
  createdBy: string;
}

/**
 * A runner joins: refused (and nothing registered) when the join token is gone, expired at `at`, a
 * single-use token already used, its secret does not match `tokenHash`, or the name is taken. The
 * refusal is the apply's, so two joins racing with one single-use token succeed once on every node,
 * whichever leader proposed them.
 */
export interface RunnerJoinCommand {
  type: "runner.join";
  at: number;
  name: string;
  tokenId: string;
  /** The hash of the presented join token's secret, compared with the stored one by the apply. */
  tokenHash: string;
  credentialId: string;
  credentialHash: string;
}

/**
 * One keyring operation. The apply computes the new keyring from the replicated one, or from `seed`
 * (the proposing leader's --encrypt keys) before the first operation, so it stays deterministic; a
 * refusal (use of a key not installed, remove of the primary) changes nothing on any node.
 */
export interface GossipKeysCommand {
  type: "gossip-keys.change";
  at: number;
  op: KeyringOp;
  key: string;
  seed: string[];
}

/** Creates a webhook (refused for an unknown job or an id in use). */
export interface WebhookPutCommand {
  type: "webhook.put";
  at: number;
  id: string;
  job: string;
  secret: string;
  /** Who created it (a token id; "" when auth is off). */
  createdBy: string;
}

/** The webhook delivery a start carries: apply records it and refuses a second one (replays). */
export interface DeliveryMark {
  hook: string;
  /** The delivery id (X-Dkron-Delivery, X-GitHub-Delivery, or the signature). */
  id: string;
  /**
   * The signature, remembered as a second key: the delivery header is not signed, so resending the
   * same signed bytes under a fresh id must still be a replay.
   */
  signature?: string;
  /** Remember delivery ids this long (the proposer's setting); older ones are pruned by this apply. */
  retainMs: number;
}

/** Starts one run (a group) of a job on its targets; rejected for a slot that already started. */
export interface ExecutionStartCommand {
  type: "execution.start";
  at: number;
  job: string;
  group: number;
  trigger: Trigger;
  attempt: number;
  /** The slot time: the cron fire time for scheduled runs, the request time otherwise. */
  scheduledAt: number;
  /** Keep at most this many executions of the job (the proposer's configured retention). */
  retain: number;
  /** One record per target; `state` other than running records a run that did not happen. */
  executions: { id: string; node: string; state?: ExecutionState; output?: string }[];
  /**
   * For a dependent run: the mark of the owed run it starts (the log index of the parent's
   * finish). Apply settles that mark with the start and rejects a second start for it.
   */
  owed?: number;
  /** A webhook delivery's body, handed to the job on every target (and kept for its retries). */
  payload?: string;
  /** For a webhook-triggered run: the delivery, accepted once per hook within its retention. */
  delivery?: DeliveryMark;
}

/** Records the result of one execution. */
export interface ExecutionFinishCommand {
  type: "execution.finish";
  at: number;
  id: string;
  state: "success" | "failed" | "lost";
  success: boolean;
  output: string;
  exitCode: number | null;
  startedAt?: number;
  finishedAt: number;
}

/**
 * Several starts in one entry: the starts due in one scheduler tick (and any other start proposed in
 * the same turn) cost one entry, one parse and one apply instead of one each. Each start applies as
 * its own `execution.start` would, in a savepoint of its own: one refused (slot already started, job
 * deleted meanwhile) changes nothing and the others apply; the result lists each start's outcome.
 */
export interface ExecutionsStartCommand {
  type: "executions.start";
  at: number;
  starts: Omit<ExecutionStartCommand, "type">[];
}

/**
 * Several results in one entry (those reported in one turn), each applied as its own
 * `execution.finish` would, in a savepoint of its own. At most one finish per job: the dependent
 * runs a finish owes are marked with the entry's index, and a child has one parent, so the marks of
 * one entry never collide (apply refuses a second finish of one job in an entry).
 */
export interface ExecutionsFinishCommand {
  type: "executions.finish";
  at: number;
  finishes: Omit<ExecutionFinishCommand, "type">[];
}

/** Each item's outcome in a batch entry, in the order of its items. */
export interface BatchValue<T extends "execution.start" | "execution.finish"> {
  results: CommandResult<T>[];
}

/**
 * Records when runners started running executions (their `ack` frames), batched: one entry for
 * every start reported in a short window. A start already recorded, or an execution no longer
 * running or gone, is passed over (its finish carries the start too).
 */
export interface ExecutionsStartedCommand {
  type: "executions.started";
  at: number;
  starts: { id: string; startedAt: number }[];
}

/** The command types, for logs and metrics. */
export type CommandType = Command["type"];

/** What an applied start tells its proposer: the records it made, or why it made none. */
export type StartValue =
  | { executions: Execution[] }
  /** The job (or a dependent child) is disabled: nothing recorded. */
  | { skipped: "disabled" }
  /** `concurrency: forbid` and `running` is still going: the slot is passed over. */
  | { skipped: "concurrency"; running: string };

/** What an applied finish tells its proposer: the committed record, or that it was already finished. */
export type FinishValue = { execution: Execution } | { duplicate: true };

/** The value each command's successful apply returns (undefined: nothing beyond its events). */
export interface CommandValues {
  "job.put": { created: boolean };
  "job.delete": undefined;
  "job.toggle": undefined;
  "execution.start": StartValue;
  "execution.finish": FinishValue;
  /** Each start's outcome (events of all of them are the entry's events, in order). */
  "executions.start": BatchValue<"execution.start">;
  /** Each finish's outcome (events of all of them are the entry's events, in order). */
  "executions.finish": BatchValue<"execution.finish">;
  /** How many of the reported starts were recorded. */
  "executions.started": { recorded: number };
  "executions.clear": undefined;
  noop: undefined;
  "peer.set": undefined;
  "peer.remove": undefined;
  "token.create": undefined;
  "token.revoke": undefined;
  "tokens.used": undefined;
  "audit.record": undefined;
  "webhook.put": undefined;
  "webhook.delete": undefined;
  "webhook.rotate": undefined;
  "runner-token.create": undefined;
  "runner-token.revoke": undefined;
  /** The tags the join token gives the runner. */
  "runner.join": { tags: Record<string, string> };
  "runner.revoke": undefined;
  /** The keyring after the operation, primary first. */
  "gossip-keys.change": { keys: string[] };
}

/** What the proposer learns from an applied command, to drive side effects after commit. */
export type FsmEvent =
  | { kind: "job.changed"; name: string }
  | { kind: "job.deleted"; name: string }
  | { kind: "peers.changed" }
  /** A runner's credential was revoked: its stream must be cut now. */
  | { kind: "runner.revoked"; name: string }
  /** The replicated gossip keyring changed: every node re-keys its gossip socket, the leader tells its runners. */
  | { kind: "keyring.changed" }
  | { kind: "execution.started"; job: string; executions: Execution[] }
  /** A parent's run group succeeded: its child `run.jobName` is owed a run (start it with `owed: run.mark`). */
  | { kind: "dependent.owed"; run: OwedRun }
  | {
      kind: "execution.finished";
      execution: Execution;
      outcome: GroupOutcome;
      /** Set when this failed attempt will be retried. */
      retry: boolean;
    };

/** A command the state machine refused: it changed nothing but last_applied. */
export interface Rejection {
  code: AppError["code"];
  message: string;
  details?: Record<string, unknown>;
}

/** The result of applying a command of type `T`: its value and events, or a typed rejection. */
export type CommandResult<T extends CommandType = CommandType> =
  | ({ ok: true; events: FsmEvent[] } & (CommandValues[T] extends undefined
      ? { value?: undefined }
      : { value: CommandValues[T] }))
  | { ok: false; error: Rejection };

/** The result type of a command: what `Consensus.propose(cmd)` resolves to. */
export type ResultOf<C extends Command> = CommandResult<C["type"]>;
