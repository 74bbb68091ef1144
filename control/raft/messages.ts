import { z } from "zod";

// Everything here crosses the network or the disk as JSON, so each shape is a strict zod schema and the
// TypeScript type is inferred from it (STYLE §2). Indexes and terms are safe integers.

const index = z.number().int().nonnegative();
const nodeId = z.string().min(1);

/** One log entry; `data` is opaque to the core (a JSON command), empty for a leader's no-op. */
export const entrySchema = z.strictObject({
  index,
  term: index,
  type: z.enum(["normal", "conf"]),
  data: z.string(),
});
/** One log entry. */
export type Entry = z.infer<typeof entrySchema>;

/** The membership a node acts on: voters count for quorums; learners only replicate. */
export const confStateSchema = z.strictObject({
  voters: z.array(nodeId),
  learners: z.array(nodeId),
  /** Learners that the leader promotes to voters once they have caught up. */
  autoPromote: z.array(nodeId),
});
/** The membership a node acts on. */
export type ConfState = z.infer<typeof confStateSchema>;

/** A membership change as stored in a `conf` entry; single-server only, one pending at a time. */
export const confChangeSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("bootstrap"), voters: z.array(nodeId).min(1) }),
  z.strictObject({ type: z.literal("addLearner"), node: nodeId, autoPromote: z.boolean() }),
  z.strictObject({ type: z.literal("promote"), node: nodeId }),
  z.strictObject({ type: z.literal("remove"), node: nodeId }),
]);
/** A membership change as stored in a `conf` entry. */
export type ConfChange = z.infer<typeof confChangeSchema>;

/** What must be durable before votes or acknowledgements leave the node. */
export const hardStateSchema = z.strictObject({ term: index, vote: nodeId.nullable(), commit: index });
/** Term, vote and commit index. */
export type HardState = z.infer<typeof hardStateSchema>;

/** Where a snapshot or a compacted log prefix ends. */
export const logPositionSchema = z.strictObject({ index, term: index });
/** An (index, term) pair. */
export type LogPosition = z.infer<typeof logPositionSchema>;

/** Snapshot metadata: the last entry it covers and the membership at that entry. */
export const snapshotMetaSchema = z.strictObject({ index, term: index, conf: confStateSchema });
/** Snapshot metadata. */
export type SnapshotMeta = z.infer<typeof snapshotMetaSchema>;

/** A state-machine snapshot; `data` is opaque to the core. */
export const snapshotSchema = z.strictObject({ meta: snapshotMetaSchema, data: z.string() });
/** A state-machine snapshot. */
export type Snapshot = z.infer<typeof snapshotSchema>;

const base = { from: nodeId, to: nodeId, term: index };

/**
 * Every message between nodes. Proposals and read requests forwarded to the leader carry term 0
 * ("local" in etcd's vocabulary) because they do not take part in elections.
 */
export const messageSchema = z.discriminatedUnion("type", [
  z.strictObject({
    ...base,
    type: z.literal("preVote"),
    lastIndex: index,
    lastTerm: index,
    force: z.boolean(),
  }),
  z.strictObject({ ...base, type: z.literal("preVoteResp"), reject: z.boolean() }),
  z.strictObject({ ...base, type: z.literal("vote"), lastIndex: index, lastTerm: index, force: z.boolean() }),
  z.strictObject({ ...base, type: z.literal("voteResp"), reject: z.boolean() }),
  z.strictObject({
    ...base,
    type: z.literal("app"),
    index,
    logTerm: index,
    entries: z.array(entrySchema),
    commit: index,
  }),
  z.strictObject({
    ...base,
    type: z.literal("appResp"),
    index,
    reject: z.boolean(),
    rejectHint: index,
    hintTerm: index,
  }),
  z.strictObject({ ...base, type: z.literal("heartbeat"), commit: index, readSeq: index }),
  z.strictObject({ ...base, type: z.literal("heartbeatResp"), readSeq: index }),
  z.strictObject({
    ...base,
    type: z.literal("snap"),
    meta: snapshotMetaSchema,
    offset: index,
    chunk: z.string(),
    done: z.boolean(),
  }),
  z.strictObject({ ...base, type: z.literal("snapResp"), index, offset: index }),
  z.strictObject({ ...base, type: z.literal("timeoutNow") }),
  z.strictObject({
    ...base,
    type: z.literal("prop"),
    entries: z.array(z.strictObject({ type: z.enum(["normal", "conf"]), data: z.string() })),
  }),
  z.strictObject({ ...base, type: z.literal("readIndex"), ctx: z.string() }),
  z.strictObject({ ...base, type: z.literal("readIndexResp"), ctx: z.string(), index }),
]);
/** A message between nodes. */
export type Message = z.infer<typeof messageSchema>;
/** The message type tags. */
export type MessageType = Message["type"];
/** The message with a given type tag. */
export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;

/** Parses an untrusted message (e.g. from HTTP); throws a ZodError on anything malformed. */
export function parseMessage(raw: unknown): Message {
  return messageSchema.parse(raw);
}
