import { z } from "zod";

/**
 * The gossip wire format: one UDP datagram carries one packet, `{"v":1,"m":[message, …]}` in compact
 * JSON (a compound message, as memberlist's), at most `packetBytes` (1400 by default) after
 * encryption. Every shape is a strict zod schema; a packet is parsed message by message, so one
 * unknown or malformed message (a newer peer's) is dropped without losing the rest.
 */

/** The wire version in every packet. */
export const GOSSIP_PROTOCOL = 1;

/** Member roles: control nodes and runners share one pool. */
export const GossipRole = z.enum(["control", "runner"]);
export type GossipRole = z.infer<typeof GossipRole>;

/** What a member says about itself; gossiped with every alive message (memberlist's node meta). */
export const MemberMetaSchema = z
  .object({
    role: GossipRole,
    version: z.string().max(64),
    tags: z.record(z.string().max(128), z.string().max(256)),
    /**
     * Fingerprints of the gossip keys this member holds, primary first (keyFingerprint: 8 hex digits
     * of the key's SHA-256, never the key), so `dkron keys list` can count who holds which key.
     */
    keys: z
      .array(z.string().regex(/^[0-9a-f]{8}$/))
      .max(8)
      .optional(),
  })
  .strict();
export type MemberMeta = z.infer<typeof MemberMetaSchema>;

/** The largest encoded meta (memberlist MetaMaxSize), so one alive message always fits a packet. */
export const META_MAX_BYTES = 512;

const name = z.string().min(1).max(128);
const seq = z.number().int().nonnegative();
const inc = z.number().int().nonnegative();
/** "host:port" of a member's gossip socket. */
const hostPort = z.string().min(3).max(262);

/** Probe: "are you alive?" to `node`; answered with an ack of the same seq to the sender. */
export const PingSchema = z.object({ t: z.literal("ping"), seq, node: name, from: name }).strict();
/** Probe answer. */
export const AckSchema = z.object({ t: z.literal("ack"), seq }).strict();
/** A relay's "I asked and got nothing" (Lifeguard), so a prober can tell its own health from the target's. */
export const NackSchema = z.object({ t: z.literal("nack"), seq }).strict();
/** Indirect probe request: ping `node` at `addr` for me and forward its ack (or a nack, if `nack`). */
export const PingReqSchema = z
  .object({ t: z.literal("preq"), seq, node: name, addr: hostPort, from: name, nack: z.boolean() })
  .strict();
/** A member is alive at incarnation `inc`, with this address and meta. */
export const AliveSchema = z
  .object({
    t: z.literal("alive"),
    node: name,
    inc,
    addr: z.string().min(1).max(255),
    port: z.number().int().min(1).max(65_535),
    meta: MemberMetaSchema,
  })
  .strict();
/** `from` suspects `node` at incarnation `inc`. */
export const SuspectSchema = z.object({ t: z.literal("suspect"), node: name, inc, from: name }).strict();
/** `from` declares `node` dead at `inc`; node === from is a graceful leave. */
export const DeadSchema = z.object({ t: z.literal("dead"), node: name, inc, from: name }).strict();

/** One member's entry in a push-pull state exchange. */
export const PushStateSchema = z
  .object({
    node: name,
    addr: z.string().min(1).max(255),
    port: z.number().int().min(1).max(65_535),
    inc,
    st: z.enum(["alive", "suspect", "dead", "left"]),
    meta: MemberMetaSchema,
  })
  .strict();
export type PushState = z.infer<typeof PushStateSchema>;

/**
 * A push-pull chunk: part of the sender's full state. Each chunk stands alone and is merged on
 * arrival (merging is idempotent per member), so there is nothing to reassemble and a lost chunk
 * costs only its members until the next sync. `reply` asks the receiver to answer exchange `id`
 * with its own state (once per sender and id).
 */
export const PushPullSchema = z
  .object({
    t: z.literal("pp"),
    id: z.number().int().nonnegative(),
    from: name,
    reply: z.boolean(),
    s: z.array(PushStateSchema),
  })
  .strict();

/** Every gossip message. */
export const GossipMessageSchema = z.discriminatedUnion("t", [
  PingSchema,
  AckSchema,
  NackSchema,
  PingReqSchema,
  AliveSchema,
  SuspectSchema,
  DeadSchema,
  PushPullSchema,
]);
export type GossipMessage = z.infer<typeof GossipMessageSchema>;
export type Ping = z.infer<typeof PingSchema>;
export type PingReq = z.infer<typeof PingReqSchema>;
export type Alive = z.infer<typeof AliveSchema>;
export type Suspect = z.infer<typeof SuspectSchema>;
export type Dead = z.infer<typeof DeadSchema>;
export type PushPull = z.infer<typeof PushPullSchema>;

/** The messages one datagram carries. */
export type Packet = GossipMessage[];

const PacketEnvelope = z.object({ v: z.literal(GOSSIP_PROTOCOL), m: z.array(z.unknown()) });

/** Bytes of the envelope around the messages: `{"v":1,"m":[` and `]}`. */
export const PACKET_OVERHEAD = `{"v":${GOSSIP_PROTOCOL},"m":[]}`.length;

/** UTF-8 length of a string without encoding it. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Encoded size of one message inside a packet (without the comma that separates it from the next). */
export function messageBytes(m: GossipMessage): number {
  return utf8Length(JSON.stringify(m));
}

/** Encoded size of a packet. */
export function packetBytes(p: Packet): number {
  let n = PACKET_OVERHEAD + Math.max(0, p.length - 1);
  for (const m of p) n += messageBytes(m);
  return n;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The datagram for a packet. */
export function encodePacket(p: Packet): Uint8Array {
  return encoder.encode(JSON.stringify({ v: GOSSIP_PROTOCOL, m: p }));
}

/** A datagram's messages, or null when it is not a gossip packet of our version; bad messages are skipped. */
export function decodePacket(bytes: Uint8Array): { packet: Packet; dropped: number } | null {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(bytes));
  } catch {
    return null;
  }
  const env = PacketEnvelope.safeParse(raw);
  if (!env.success) return null;
  const packet: Packet = [];
  let dropped = 0;
  for (const m of env.data.m) {
    const r = GossipMessageSchema.safeParse(m);
    if (r.success) packet.push(r.data);
    else dropped++;
  }
  return { packet, dropped };
}
