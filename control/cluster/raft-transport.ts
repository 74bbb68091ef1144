import { Agent, request } from "undici";
import type { Logger } from "../../shared/logger";
import type { Message } from "../raft/messages";

/** Path on every control node's HTTP port that takes Raft messages. */
export const RAFT_MESSAGES_PATH = "/_raft/messages";

/** Transport options. */
export interface RaftTransportOptions {
  self: string;
  /** Cluster secret sent as a bearer token; every node checks it. */
  secret: string;
  logger: Logger;
  /** Requests in flight per peer (pipelining); batches keep their order within a request. */
  pipeline?: number;
  /** Messages per request at most. */
  maxBatch?: number;
}

interface PeerQueue {
  url: string;
  queue: Message[];
  inFlight: number;
  failures: number;
}

/**
 * Raft messages between control nodes over HTTP/1.1 with keep-alive (undici). Sending never
 * blocks the core: messages queue per peer and go out in batches; a failed request drops its
 * batch (Raft retransmits) and is logged once per failure streak.
 */
export class HttpRaftTransport {
  private readonly agent = new Agent({
    keepAliveTimeout: 30_000,
    connections: 8,
    pipelining: 1,
    connectTimeout: 2000,
  });
  private readonly peers = new Map<string, PeerQueue>();
  private closed = false;

  constructor(private readonly opts: RaftTransportOptions) {}

  /** Sets (or changes) where a peer's HTTP API is, e.g. http://127.0.0.1:8081. */
  setPeer(id: string, baseUrl: string): void {
    const p = this.peers.get(id);
    if (p) p.url = baseUrl;
    else this.peers.set(id, { url: baseUrl, queue: [], inFlight: 0, failures: 0 });
  }

  /** The base URL known for a peer, or undefined. */
  peerUrl(id: string): string | undefined {
    return this.peers.get(id)?.url;
  }

  /** Queues messages for their destinations and starts sending. */
  send(msgs: readonly Message[]): void {
    if (this.closed) return;
    for (const m of msgs) {
      const p = this.peers.get(m.to);
      if (!p) {
        this.opts.logger.debug("no address for raft peer; dropping message", { to: m.to, type: m.type });
        continue;
      }
      p.queue.push(m);
    }
    for (const [id, p] of this.peers) if (p.queue.length) this.pump(id, p);
  }

  /** Stops sending and closes connections. */
  async close(): Promise<void> {
    this.closed = true;
    await this.agent.close().catch(() => undefined);
  }

  private pump(id: string, p: PeerQueue): void {
    const max = this.opts.pipeline ?? 2;
    while (p.queue.length && p.inFlight < max && !this.closed) {
      const batch = p.queue.splice(0, this.opts.maxBatch ?? 256);
      p.inFlight++;
      void this.post(p.url, batch)
        .then(() => {
          if (p.failures > 0) this.opts.logger.info("raft peer reachable again", { peer: id });
          p.failures = 0;
        })
        .catch((e: unknown) => {
          if (p.failures++ === 0)
            this.opts.logger.warn("raft peer unreachable; messages dropped until it answers", {
              peer: id,
              err: String(e),
            });
        })
        .finally(() => {
          p.inFlight--;
          if (p.queue.length) this.pump(id, p);
        });
    }
  }

  private async post(url: string, batch: Message[]): Promise<void> {
    const res = await request(`${url}${RAFT_MESSAGES_PATH}`, {
      method: "POST",
      dispatcher: this.agent,
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${this.opts.secret}`,
        "x-raft-from": this.opts.self,
      },
      body: JSON.stringify(batch),
      headersTimeout: 5000,
      bodyTimeout: 5000,
    });
    await res.body.dump();
    if (res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}`);
  }
}
