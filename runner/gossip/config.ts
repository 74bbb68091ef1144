import { z } from "zod";
import { durationMs } from "../../shared";

/**
 * Gossip tunables, resolved once at start-up. Defaults are memberlist's DefaultLANConfig
 * (consensus-anchors.md §4.2); durations accept "1s"-style text or milliseconds.
 */
export const GossipConfigSchema = z
  .object({
    /** Time between failure-detector probes (memberlist ProbeInterval). */
    probeInterval: durationMs.default(1000),
    /** How long a direct ping waits for its ack before indirect probes start (ProbeTimeout). */
    probeTimeout: durationMs.default(500),
    /** Members asked to ping a target that missed its direct ack (IndirectChecks). */
    indirectChecks: z.number().int().nonnegative().default(3),
    /** Time between gossip rounds of queued broadcasts (GossipInterval). */
    gossipInterval: durationMs.default(200),
    /** Members each gossip round sends to (GossipNodes). */
    gossipNodes: z.number().int().positive().default(3),
    /** Retransmits per broadcast = retransmitMult × ceil(log10(n + 1)) (RetransmitMult). */
    retransmitMult: z.number().int().positive().default(4),
    /** Suspicion min = suspicionMult × max(1, log10(n)) × probeInterval (SuspicionMult). */
    suspicionMult: z.number().int().positive().default(4),
    /** Suspicion max = this × min (SuspicionMaxTimeoutMult). */
    suspicionMaxTimeoutMult: z.number().int().positive().default(6),
    /** Time between full-state syncs with one random member, scaled up past 32 members (PushPullInterval). */
    pushPullInterval: durationMs.default(30_000),
    /** Probe interval and timeout are multiplied by (health score + 1), the score capped below this. */
    awarenessMaxMultiplier: z.number().int().positive().default(8),
    /** How long dead members still receive gossip (GossipToTheDeadTime), so they can refute. */
    gossipToTheDead: durationMs.default(30_000),
    /**
     * How often a member tries a full sync with one random dead (not left) member's address (Serf's
     * ReconnectInterval): how a healed partition, whose halves stopped probing each other, merges.
     */
    reconnectInterval: durationMs.default(30_000),
    /** How long dead and left members stay listed before they are forgotten (Serf's reap). */
    reapAfter: durationMs.default(24 * 3_600_000),
    /** Largest datagram, after encryption (memberlist UDPBufferSize). */
    packetBytes: z.number().int().min(512).max(65_000).default(1400),
    /** How often a join retries its seed addresses until one answers. */
    joinRetryInterval: durationMs.default(1000),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.probeTimeout >= c.probeInterval)
      ctx.addIssue({
        code: "custom",
        message: "probeTimeout must be below probeInterval",
        path: ["probeTimeout"],
      });
  });

/** Options as a caller writes them (every field optional). */
export type GossipConfigInput = z.input<typeof GossipConfigSchema>;
/** Options after defaults and checks. */
export type GossipConfig = z.output<typeof GossipConfigSchema>;

/** Fills defaults and cross-checks; throws a zod error on a bad option. */
export function resolveGossipConfig(input: GossipConfigInput = {}): GossipConfig {
  return GossipConfigSchema.parse(input);
}

/** Lifeguard's minimum suspicion timeout for a cluster of n (memberlist util.go suspicionTimeout). */
export function suspicionMinMs(c: GossipConfig, n: number): number {
  const scale = Math.max(1, Math.log10(Math.max(1, n)));
  return Math.floor(c.suspicionMult * scale * c.probeInterval);
}

/** The maximum suspicion timeout, where an unconfirmed suspicion starts. */
export function suspicionMaxMs(c: GossipConfig, n: number): number {
  return c.suspicionMaxTimeoutMult * suspicionMinMs(c, n);
}

/** Confirmations that bring a suspicion down to its minimum: suspicionMult − 2, or 0 when too few members. */
export function suspicionConfirmations(c: GossipConfig, n: number): number {
  const k = c.suspicionMult - 2;
  return n - 2 < k ? 0 : k;
}

/** How many times one broadcast is sent (memberlist util.go retransmitLimit). */
export function retransmitLimit(c: GossipConfig, n: number): number {
  return c.retransmitMult * Math.ceil(Math.log10(n + 1));
}

/** The push-pull interval for n members: doubles with every doubling past 32 (util.go pushPullScale). */
export function pushPullIntervalMs(c: GossipConfig, n: number): number {
  const threshold = 32;
  if (n <= threshold) return c.pushPullInterval;
  return (Math.ceil(Math.log2(n) - Math.log2(threshold)) + 1) * c.pushPullInterval;
}

/**
 * memberlist suspicion.go remainingSuspicionTime: the timeout after n of k confirmations, decaying
 * logarithmically from max to min; minus what has already elapsed.
 */
export function remainingSuspicionMs(
  n: number,
  k: number,
  elapsed: number,
  min: number,
  max: number,
): number {
  const frac = k > 0 ? Math.log(n + 1) / Math.log(k + 1) : 1;
  const raw = Math.floor(max - frac * (max - min));
  return Math.max(min, raw) - elapsed;
}
