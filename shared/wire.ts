import { z } from "zod";
import { GossipKeyringSchema } from "./gossip-keyring";

/**
 * The runner wire protocol: JSON text frames over one WebSocket between a runner and the leader.
 * The execution id is the idempotency key: a runner never starts the same execution twice, and a
 * result is reported until the leader acknowledges it.
 */
export const WIRE_VERSION = 1;

/** Largest output chunk a runner sends in one frame (bytes of UTF-8, approximately). */
export const MAX_OUTPUT_CHUNK = 16 * 1024;

/**
 * Header of the leader's 401 to a runner's upgrade: the credential is unknown to (or revoked by)
 * the cluster, for good. A runner stops only on this (or close code 4003); a bare 401, which an
 * older follower may send for a join it has not applied yet, is retried like an outage.
 */
export const RUNNER_REJECTED_HEADER = "dkron-runner-rejected";

const executionId = z.string().min(1);

/** runner → control: first frame. `running` lists executions still held, so a new leader re-attaches them. */
export const HelloSchema = z.object({
  type: z.literal("hello"),
  version: z.number().int(),
  name: z.string().min(1),
  tags: z.record(z.string(), z.string()),
  running: z.array(executionId).default([]),
  /** Results finished while disconnected, re-sent until acknowledged. */
  pending_results: z.array(z.lazy(() => ResultSchema)).default([]),
  /** Executions this runner process already ran (recent ones): never to be sent again. */
  seen: z.array(executionId).default([]),
  /**
   * How long this runner process has been up. A new leader re-sends an inherited execution the
   * runner does not know only if the runner was up before it started (so it cannot have run it).
   */
  uptime_ms: z.number().int().min(0).default(0),
  /** Most executions it runs at once (`--max-concurrent`); the leader never sends more. Absent: no limit. */
  max_concurrent: z.number().int().min(1).optional(),
  /** The executors it runs (`--executors`); the leader sends no other. Absent: any. */
  executors: z.array(z.string().min(1)).optional(),
});

/** control → runner: reply to hello. */
export const WelcomeSchema = z.object({
  type: z.literal("welcome"),
  node: z.string(),
  /** Executions from `running` the leader does not know (the runner should cancel them). */
  unknown: z.array(executionId).default([]),
  heartbeat_ms: z.number().int().positive(),
  /**
   * "host:port" of the control nodes' gossip sockets the leader knows alive: a runner not in the
   * gossip pool yet joins it through them. Absent from older nodes.
   */
  gossip: z.array(z.string().min(3).max(262)).max(64).optional(),
  /**
   * http(s):// base URLs of every control node the leader knows (itself included): a runner saves
   * them and, when its stream drops and its saved control URL does not answer, tries the others
   * (any of them redirects it to the leader). Absent from older nodes.
   */
  controls: z.array(z.string().url().max(300)).max(64).optional(),
});

/** control → runner: run one execution. */
export const RunSchema = z.object({
  type: z.literal("run"),
  execution_id: executionId,
  job_name: z.string(),
  scheduled_at: z.string(),
  attempt: z.number().int().min(1),
  executor: z.string(),
  config: z.record(z.string(), z.string()),
  /**
   * A webhook delivery's body (runs started by a webhook, and their retries): a shell job reads it
   * from the file named in DKRON_WEBHOOK_PAYLOAD, an http job sends it as the request body.
   */
  payload: z.string().optional(),
});

/**
 * runner → control: the run started (or, re-sent, is already running). `started_at` is when the
 * process spawned or the request went out, by the runner's clock; absent from older runners.
 */
export const AckSchema = z.object({
  type: z.literal("ack"),
  execution_id: executionId,
  started_at: z.number().optional(),
});

/** runner → control: a chunk of output, in order (`seq` from 0). */
export const OutputSchema = z.object({
  type: z.literal("output"),
  execution_id: executionId,
  seq: z.number().int().min(0),
  data: z.string(),
});

/** runner → control: the execution finished. */
export const ResultSchema = z.object({
  type: z.literal("result"),
  execution_id: executionId,
  success: z.boolean(),
  output: z.string(),
  error: z.string().optional(),
  exit_code: z.number().int().nullable().default(null),
  started_at: z.number(),
  finished_at: z.number(),
  /**
   * Output bytes that did not reach the leader: older than the tail the runner keeps. `output` is
   * the tail alone; the leader writes the one note saying how much was dropped (with what it cut).
   */
  dropped_bytes: z.number().int().min(0).optional(),
});

/** control → runner: the result was committed; the runner may forget it. */
export const ResultAckSchema = z.object({ type: z.literal("result_ack"), execution_id: executionId });

/** control → runner: stop an execution (kill its process group / abort its request). */
export const CancelSchema = z.object({ type: z.literal("cancel"), execution_id: executionId });

/** either way: liveness; the runner's ping carries the executions it holds (renews their lease). */
export const PingSchema = z.object({
  type: z.literal("ping"),
  ts: z.number(),
  running: z.array(executionId).optional(),
});
export const PongSchema = z.object({ type: z.literal("pong"), ts: z.number() });

/**
 * runner → control: this runner is draining (SIGTERM): it takes no new run, but its running ones
 * finish and their results still arrive on this stream. The leader stops sending it runs.
 */
export const DrainingSchema = z.object({ type: z.literal("draining") });

/** control → runner: finish running work, accept nothing new. */
export const DrainSchema = z.object({ type: z.literal("drain") });

/**
 * control → runner: the cluster's gossip keyring, primary first, sent after the welcome and on every
 * change (`dkron keys install/use/remove`). The runner re-keys its gossip member and saves it to its
 * data dir (mode 0600); a runner without --encrypt ignores it.
 */
export const KeyringSchema = z.object({ type: z.literal("keyring"), keys: GossipKeyringSchema });

/** Frames a runner sends. */
export const RunnerMessageSchema = z.discriminatedUnion("type", [
  HelloSchema,
  AckSchema,
  OutputSchema,
  ResultSchema,
  PingSchema,
  PongSchema,
  DrainingSchema,
]);
/** Frames the control node sends. */
export const ControlMessageSchema = z.discriminatedUnion("type", [
  WelcomeSchema,
  RunSchema,
  CancelSchema,
  ResultAckSchema,
  PingSchema,
  PongSchema,
  DrainSchema,
  KeyringSchema,
]);

export type Hello = z.infer<typeof HelloSchema>;
export type Welcome = z.infer<typeof WelcomeSchema>;
export type Run = z.infer<typeof RunSchema>;
export type Ack = z.infer<typeof AckSchema>;
export type Output = z.infer<typeof OutputSchema>;
export type Result = z.infer<typeof ResultSchema>;
export type RunnerMessage = z.infer<typeof RunnerMessageSchema>;
export type ControlMessage = z.infer<typeof ControlMessageSchema>;

/** Encodes a frame. */
export function encodeFrame(msg: RunnerMessage | ControlMessage): string {
  return JSON.stringify(msg);
}

/** Decodes a runner frame; returns an error string instead of throwing on bad input. */
export function decodeRunnerFrame(
  text: string,
): { ok: true; msg: RunnerMessage } | { ok: false; error: string } {
  return decodeWith(RunnerMessageSchema, text);
}

/** Decodes a control frame; returns an error string instead of throwing on bad input. */
export function decodeControlFrame(
  text: string,
): { ok: true; msg: ControlMessage } | { ok: false; error: string } {
  return decodeWith(ControlMessageSchema, text);
}

function decodeWith<T>(
  schema: z.ZodType<T>,
  text: string,
): { ok: true; msg: T } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: "frame is not JSON" };
  }
  const r = schema.safeParse(raw);
  if (!r.success)
    return { ok: false, error: r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") };
  return { ok: true, msg: r.data };
}
