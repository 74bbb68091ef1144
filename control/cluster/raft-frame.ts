import { type Message, messageSchema } from "../raft";

/** Path on every control node's HTTP port where peers open their Raft stream (a WebSocket upgrade). */
export const RAFT_STREAM_PATH = "/_raft/stream";

/** One frame on a Raft stream: a JSON array of messages for the receiving node. */
export function encodeRaftFrame(msgs: readonly Message[]): string {
  return JSON.stringify(msgs);
}

/**
 * Decodes a frame from a peer. Malformed messages are dropped one by one (Raft treats them as lost);
 * `rejected` counts them so the caller can log a peer that speaks another version.
 */
export function decodeRaftFrame(data: string): { msgs: Message[]; rejected: number } {
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return { msgs: [], rejected: 1 };
  }
  if (!Array.isArray(raw)) return { msgs: [], rejected: 1 };
  const msgs: Message[] = [];
  let rejected = 0;
  for (const m of raw) {
    const r = messageSchema.safeParse(m);
    if (r.success) msgs.push(r.data);
    else rejected++;
  }
  return { msgs, rejected };
}
