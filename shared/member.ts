import { z } from "zod";

/** Serf member status codes as Dkron reports them. */
export const MemberStatus = { none: 0, alive: 1, leaving: 2, left: 3, failed: 4 } as const;
export type MemberStatusText = keyof typeof MemberStatus;

/** A cluster member (control node or runner) in Dkron's /v1/members shape. */
export const MemberSchema = z.object({
  id: z.string(),
  Name: z.string(),
  Addr: z.string(),
  Port: z.number().int(),
  Tags: z.record(z.string(), z.string()),
  Status: z.number().int(),
  statusText: z.string(),
  ProtocolMin: z.number().int().default(1),
  ProtocolMax: z.number().int().default(5),
  ProtocolCur: z.number().int().default(2),
  DelegateMin: z.number().int().default(2),
  DelegateMax: z.number().int().default(5),
  DelegateCur: z.number().int().default(4),
});
export type Member = z.infer<typeof MemberSchema>;

/** The node status object served at GET /v1/ (Dkron's shape plus our raft section). */
export const NodeStatusSchema = z.object({
  agent: z.object({ name: z.string(), version: z.string() }),
  serf: z.record(z.string(), z.string()),
  tags: z.record(z.string(), z.string()),
  raft: z.object({
    state: z.string(),
    term: z.number(),
    leader: z.string(),
    commit_index: z.number(),
    applied_index: z.number(),
    last_log_index: z.number(),
    /** The index the latest snapshot covers (0: none yet); the log holds the entries after it. */
    last_snapshot_index: z.number(),
    /** Fsynced Raft log writes since this node started, and the entries they carried. */
    log_syncs: z.number(),
    log_synced_entries: z.number(),
  }),
});
export type NodeStatus = z.infer<typeof NodeStatusSchema>;

/** A live member in Dkron's shape, with the Serf protocol fields Dkron's UI expects. */
export function aliveMember(name: string, addr: string, port: number, tags: Record<string, string>): Member {
  return {
    id: name,
    Name: name,
    Addr: addr,
    Port: port,
    Tags: tags,
    Status: MemberStatus.alive,
    statusText: "alive",
    ProtocolMin: 1,
    ProtocolMax: 5,
    ProtocolCur: 2,
    DelegateMin: 2,
    DelegateMax: 5,
    DelegateCur: 4,
  };
}

/**
 * "host:port" of the gossip sockets of the control nodes among `pool` (gossip members in Dkron's
 * shape) that are alive: what a runner joins the gossip pool through when it is told no address.
 */
export function controlGossipSeeds(pool: readonly Member[]): string[] {
  return pool
    .filter((m) => m.Tags.role === "dkron" && m.Status === MemberStatus.alive && m.Port > 0)
    .map((m) => (m.Addr.includes(":") ? `[${m.Addr}]:${m.Port}` : `${m.Addr}:${m.Port}`))
    .sort();
}
