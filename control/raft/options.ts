import { z } from "zod";

/**
 * The core's tunables, in ticks and counts. Resolved once by zod with the defaults below and
 * cross-checked (a heartbeat must fire well inside an election timeout, or followers would start
 * elections against a healthy leader).
 */
export const raftTunablesSchema = z
  .strictObject({
    /** Base election timeout; each node randomises its own in [electionTicks, 2·electionTicks). */
    electionTicks: z.number().int().min(2).default(10),
    /** Leader heartbeat interval. */
    heartbeatTicks: z.number().int().min(1).default(1),
    /** Ask for votes without bumping the term first, so a rejoining node cannot disrupt a leader. */
    preVote: z.boolean().default(true),
    /** Leader steps down after an election timeout without hearing from a quorum; followers keep a lease. */
    checkQuorum: z.boolean().default(true),
    /** Appends in flight per follower in replicate state (the flow-control window). */
    maxInflight: z.number().int().min(1).default(64),
    /** Entries per append message (batching). */
    maxEntriesPerMsg: z.number().int().min(1).default(64),
    /** Entry data characters per append message; at least one entry is always sent. */
    maxBytesPerMsg: z
      .number()
      .int()
      .min(1)
      .default(1 << 20),
    /** Characters of snapshot data per InstallSnapshot chunk. */
    snapshotChunkSize: z
      .number()
      .int()
      .min(1)
      .default(64 * 1024),
    /** Ask the driver for a snapshot once this many entries were applied since the last one; 0 = never. */
    snapshotThreshold: z.number().int().min(0).default(8192),
    /**
     * Also ask for one once the log held in memory reaches this many characters of entry data (0 =
     * only by count): a log of big entries (a burst's thousand starts in one) would otherwise hold
     * hundreds of megabytes before the count is reached.
     */
    snapshotThresholdChars: z
      .number()
      .int()
      .min(0)
      .default(24 * 1024 * 1024),
    /** Entries kept behind a snapshot so slightly lagging followers catch up without one. */
    trailingEntries: z.number().int().min(0).default(1024),
    /** At most this many characters of them (a follower further behind gets the snapshot). */
    trailingChars: z
      .number()
      .int()
      .min(0)
      .default(8 * 1024 * 1024),
    /** Ticks without an acknowledgement before a pipelined follower or snapshot transfer is retried. */
    resendTicks: z.number().int().min(1).optional(),
  })
  .refine((o) => o.heartbeatTicks * 2 <= o.electionTicks, {
    message: "heartbeatTicks must be at most half of electionTicks",
  });

/** Tunables as the caller may pass them. */
export type RaftTunablesInput = z.input<typeof raftTunablesSchema>;
/** Tunables with every default filled in. */
export type RaftTunables = Required<z.output<typeof raftTunablesSchema>>;

/** Fills defaults and validates; throws a ZodError naming the bad field. */
export function resolveTunables(input: RaftTunablesInput = {}): RaftTunables {
  const o = raftTunablesSchema.parse(input);
  return { ...o, resendTicks: o.resendTicks ?? Math.max(2, Math.floor(o.electionTicks / 2)) };
}
