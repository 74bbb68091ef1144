import type WebSocket from "ws";
import type { Clock, Logger, TimerHandle } from "../../shared";
import type { Message } from "../raft";
import { encodeRaftFrame, RAFT_STREAM_PATH } from "./raft-frame";

/** Opens a client WebSocket (the real one: `(url, o) => new WebSocket(url, o)` from ws). */
export type WebSocketFactory = (url: string, options: WebSocket.ClientOptions) => WebSocket;

/** Transport options. */
export interface RaftTransportOptions {
  self: string;
  /** Cluster secret sent as a bearer token on the upgrade; every node checks it. */
  secret: string;
  logger: Logger;
  /** Time for back-off and liveness, and the ping timer. */
  clock: Clock;
  /** Dials a peer's stream. */
  webSocket: WebSocketFactory;
  /** Bytes a peer's socket may hold unsent before further messages to it are dropped (Raft resends). */
  maxBufferedBytes?: number;
  /** Messages kept for a peer while its stream is connecting; older ones are dropped first. */
  maxQueuedWhileConnecting?: number;
  /** Ping interval; a stream without a pong for two intervals is cut and redialled. */
  pingMs?: number;
}

interface Peer {
  id: string;
  url: string;
  ws: WebSocket | undefined;
  open: boolean;
  /** Messages sent while the stream was connecting; flushed in order on open. */
  queue: Message[];
  /** No dial before this time (ms since epoch): back-off after failures. */
  retryAt: number;
  backoffMs: number;
  failures: number;
  alive: boolean;
  /** When the stream last proved the peer answers (opened, or a pong); 0 = never. */
  heardAt: number;
  dropping: boolean;
}

const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1000;

/**
 * Raft messages between control nodes over one persistent WebSocket per peer (ws, or wss when the
 * cluster serves TLS), riding on the peer's HTTP port. Each node dials every peer and only sends on
 * the streams it dialled, so a stream is one-way and needs no request/response pairing. Sending never
 * blocks the core and never queues without bound: a stream that is connecting keeps a bounded queue,
 * and a peer that stops reading (SIGSTOP, a full network) has further messages dropped once its
 * socket buffer passes a limit. Raft retransmits whatever was dropped.
 */
export class StreamRaftTransport {
  private readonly peers = new Map<string, Peer>();
  private pinger: TimerHandle | undefined;
  private closed = false;

  constructor(private readonly opts: RaftTransportOptions) {
    this.schedulePing();
  }

  /** Sets (or changes) where a peer's HTTP API is, e.g. http://127.0.0.1:8081. */
  setPeer(id: string, baseUrl: string): void {
    const p = this.peers.get(id);
    if (!p) {
      this.peers.set(id, {
        id,
        url: baseUrl,
        ws: undefined,
        open: false,
        queue: [],
        retryAt: 0,
        backoffMs: MIN_BACKOFF_MS,
        failures: 0,
        alive: true,
        heardAt: 0,
        dropping: false,
      });
      return;
    }
    if (p.url === baseUrl) return;
    p.url = baseUrl;
    p.ws?.terminate();
  }

  /** The base URL known for a peer, or undefined. */
  peerUrl(id: string): string | undefined {
    return this.peers.get(id)?.url;
  }

  /** Whether this node's stream to a peer is open and the peer answered within the last two pings. */
  reachable(id: string): boolean {
    const p = this.peers.get(id);
    return !!p?.open && this.opts.clock.now() - p.heardAt <= 2 * (this.opts.pingMs ?? 1000) + 100;
  }

  /** Sends messages to their destinations: one frame per peer per call. */
  send(msgs: readonly Message[]): void {
    if (this.closed) return;
    let byPeer: Map<Peer, Message[]> | undefined;
    for (const m of msgs) {
      const p = this.peers.get(m.to);
      if (!p) {
        this.opts.logger.debug("no address for raft peer; dropping message", { to: m.to, type: m.type });
        continue;
      }
      byPeer ??= new Map();
      const list = byPeer.get(p);
      if (list) list.push(m);
      else byPeer.set(p, [m]);
    }
    if (byPeer) for (const [p, list] of byPeer) this.deliver(p, list);
  }

  /** Stops sending and closes every stream. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.pinger !== undefined) this.opts.clock.clearTimeout(this.pinger);
    for (const p of this.peers.values()) p.ws?.terminate();
  }

  private deliver(p: Peer, list: Message[]): void {
    if (p.open && p.ws) {
      if (p.ws.bufferedAmount > (this.opts.maxBufferedBytes ?? 16 * 1024 * 1024)) {
        if (!p.dropping)
          this.opts.logger.warn("raft peer is not reading; dropping messages to it until it catches up", {
            peer: p.id,
          });
        p.dropping = true;
        return;
      }
      p.dropping = false;
      p.ws.send(encodeRaftFrame(list));
      return;
    }
    const max = this.opts.maxQueuedWhileConnecting ?? 4096;
    p.queue.push(...list);
    if (p.queue.length > max) p.queue.splice(0, p.queue.length - max);
    if (!p.ws && this.opts.clock.now() >= p.retryAt) this.dial(p);
  }

  private dial(p: Peer): void {
    const url = `${p.url.replace(/^http/, "ws")}${RAFT_STREAM_PATH}`;
    const ws = this.opts.webSocket(url, {
      headers: {
        ...(this.opts.secret ? { authorization: `Bearer ${this.opts.secret}` } : {}),
        "x-raft-from": this.opts.self,
      },
      handshakeTimeout: 2000,
      perMessageDeflate: false,
    });
    p.ws = ws;
    p.alive = true;
    ws.on("open", () => {
      if (p.ws !== ws) return;
      p.open = true;
      p.heardAt = this.opts.clock.now();
      if (p.failures > 0) this.opts.logger.info("raft peer reachable again", { peer: p.id });
      p.failures = 0;
      p.backoffMs = MIN_BACKOFF_MS;
      const queued = p.queue;
      p.queue = [];
      if (queued.length) ws.send(encodeRaftFrame(queued));
    });
    ws.on("pong", () => {
      p.alive = true;
      p.heardAt = this.opts.clock.now();
    });
    ws.on("unexpected-response", (_req, res) => {
      this.failed(p, `HTTP ${res.statusCode}`);
      res.resume();
      ws.terminate();
    });
    ws.on("error", (e) => this.failed(p, String(e)));
    ws.on("close", () => {
      if (p.ws !== ws) return;
      p.ws = undefined;
      p.open = false;
      p.dropping = false;
      // Redial soon so the next heartbeat finds a stream; a peer that stays down backs off.
      if (p.failures === 0) p.retryAt = 0;
    });
  }

  private failed(p: Peer, why: string): void {
    if (p.failures++ === 0)
      this.opts.logger.warn("raft peer unreachable; messages dropped until it answers", {
        peer: p.id,
        err: why,
      });
    p.retryAt = this.opts.clock.now() + p.backoffMs;
    p.backoffMs = Math.min(MAX_BACKOFF_MS, p.backoffMs * 2);
    p.queue = [];
  }

  /**
   * Pings every pingMs until closed. The timer is not unref'd (a Clock has no unref) and need not be:
   * the node's Raft tick timer keeps the process alive as long, and the node's stop() closes this.
   */
  private schedulePing(): void {
    this.pinger = this.opts.clock.setTimeout(() => {
      this.ping();
      if (!this.closed) this.schedulePing();
    }, this.opts.pingMs ?? 1000);
  }

  /**
   * Keeps a stream to every known peer (followers never message each other, but a candidate needs its
   * streams at once, and liveness in /v1/members comes from them) and cuts streams whose peer stopped
   * answering pings (frozen or gone without a FIN).
   */
  private ping(): void {
    if (this.closed) return;
    for (const p of this.peers.values()) {
      if (!p.ws) {
        if (this.opts.clock.now() >= p.retryAt) this.dial(p);
        continue;
      }
      if (!p.open) continue;
      if (!p.alive) {
        this.failed(p, "no pong");
        p.ws.terminate();
        continue;
      }
      p.alive = false;
      p.ws.ping();
    }
  }
}
