import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import type { Clock, TimerHandle } from "../../shared/clock";
import type { Logger } from "../../shared/logger";
import type { Candidate } from "../../shared/tags";
import {
  type ControlMessage,
  decodeRunnerFrame,
  encodeFrame,
  type Hello,
  type Output,
  type Result,
  WIRE_VERSION,
} from "../../shared/wire";
import { safeEqual } from "../http/bearer";

/** Path runners connect to on a control node's HTTP port. */
export const RUNNER_WS_PATH = "/_runner/ws";

/** A connected runner. */
export interface RunnerSession {
  name: string;
  tags: Record<string, string>;
  addr: string;
  connectedAt: number;
  lastSeen: number;
}

/** What the hub reports to the dispatcher. */
export interface HubHandler {
  /** A runner said hello; returns the ids it holds that the leader does not know. */
  onHello(session: RunnerSession, hello: Hello): string[];
  /** A runner still holds these executions (hello, ping, ack, output all renew the lease). */
  onHeld(runner: string, ids: string[]): void;
  onOutput(runner: string, out: Output): void;
  onResult(runner: string, result: Result): void;
  onDisconnect(runner: string): void;
}

/** Hub options. */
export interface HubOptions {
  clock: Clock;
  logger: Logger;
  /** Shared secret runners present (Authorization: Bearer or ?token=); empty = no check. */
  token: string;
  heartbeatMs: number;
  nodeName: string;
  /**
   * Where runners must go instead: undefined while this node leads, the leader's host:port when
   * another node leads, null when no leader is known.
   */
  redirect?: () => string | null | undefined;
  /** ws, or wss when the node serves TLS. */
  wsScheme?: "ws" | "wss";
}

interface Conn {
  session: RunnerSession;
  ws: WebSocket;
}

/** The leader's WebSocket hub: one session per runner, heartbeats, frames in and out. */
export class RunnerHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 8 * 1024 * 1024 });
  private readonly conns = new Map<string, Conn>();
  private heartbeat: TimerHandle | undefined;
  private handler: HubHandler | undefined;
  private stopped = false;

  constructor(private readonly opts: HubOptions) {}

  /** Sets who receives runner events (the dispatcher). */
  setHandler(handler: HubHandler): void {
    this.handler = handler;
  }

  /** Starts heartbeats. */
  start(): void {
    this.stopped = false;
    this.scheduleHeartbeat();
  }

  /** Closes every session. */
  stop(): void {
    this.stopped = true;
    if (this.heartbeat) this.opts.clock.clearTimeout(this.heartbeat);
    for (const c of this.conns.values()) c.ws.close(1001, "control node stopping");
    this.conns.clear();
    this.wss.close();
  }

  /** Takes over an HTTP upgrade on RUNNER_WS_PATH; returns false for other paths. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname !== RUNNER_WS_PATH) return false;
    const given =
      (req.headers.authorization ?? "").replace(/^Bearer\s+/i, "") || url.searchParams.get("token") || "";
    if (this.opts.token && !safeEqual(given, this.opts.token)) {
      socket.write(
        "HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nrunner token rejected\n",
      );
      socket.destroy();
      return true;
    }
    const to = this.opts.redirect?.();
    if (to === null) {
      socket.write(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nno leader is elected yet\n",
      );
      socket.destroy();
      return true;
    }
    if (to !== undefined) {
      // Runners talk to the leader only; ws clients follow this redirect.
      socket.write(
        `HTTP/1.1 307 Temporary Redirect\r\nLocation: ${this.opts.wsScheme ?? "ws"}://${to}${url.pathname}${url.search}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
      socket.destroy();
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req.socket.remoteAddress ?? ""));
    return true;
  }

  /** Closes every runner session (leadership moved: runners reconnect and find the new leader). */
  disconnectAll(reason: string): void {
    for (const c of this.conns.values()) c.ws.close(4001, reason);
    this.conns.clear();
  }

  /** Runners connected now, as target candidates. */
  candidates(): Candidate[] {
    return [...this.conns.values()].map((c) => ({ name: c.session.name, tags: c.session.tags }));
  }

  /** Sessions connected now. */
  sessions(): RunnerSession[] {
    return [...this.conns.values()].map((c) => ({ ...c.session }));
  }

  /** Whether a runner is connected. */
  isConnected(name: string): boolean {
    return this.conns.has(name);
  }

  /** Sends a frame to a runner; false when it is not connected. */
  send(runner: string, msg: ControlMessage): boolean {
    const c = this.conns.get(runner);
    if (!c || c.ws.readyState !== c.ws.OPEN) return false;
    c.ws.send(encodeFrame(msg));
    return true;
  }

  private accept(ws: WebSocket, addr: string): void {
    let conn: Conn | undefined;
    const helloTimer = this.opts.clock.setTimeout(() => {
      if (!conn) ws.close(1008, "expected hello");
    }, 10_000);
    ws.on("message", (data) => {
      const decoded = decodeRunnerFrame(String(data));
      if (!decoded.ok) {
        this.opts.logger.warn("bad frame from runner", { runner: conn?.session.name, error: decoded.error });
        ws.close(1007, decoded.error.slice(0, 120));
        return;
      }
      const msg = decoded.msg;
      if (!conn) {
        if (msg.type !== "hello") {
          ws.close(1008, "expected hello");
          return;
        }
        this.opts.clock.clearTimeout(helloTimer);
        conn = this.register(ws, msg, addr);
        return;
      }
      const name = conn.session.name;
      conn.session.lastSeen = this.opts.clock.now();
      switch (msg.type) {
        case "ack":
          this.handler?.onHeld(name, [msg.execution_id]);
          break;
        case "output":
          this.handler?.onOutput(name, msg);
          break;
        case "result":
          this.handler?.onResult(name, msg);
          break;
        case "ping":
          if (msg.running) this.handler?.onHeld(name, msg.running);
          ws.send(encodeFrame({ type: "pong", ts: msg.ts }));
          break;
        case "pong":
        case "hello":
          break;
      }
    });
    ws.on("close", () => {
      this.opts.clock.clearTimeout(helloTimer);
      if (conn && this.conns.get(conn.session.name)?.ws === ws) {
        this.conns.delete(conn.session.name);
        this.opts.logger.info("runner disconnected", { runner: conn.session.name });
        this.handler?.onDisconnect(conn.session.name);
      }
    });
    ws.on("error", (err) =>
      this.opts.logger.warn("runner socket error", { runner: conn?.session.name, err: String(err) }),
    );
  }

  private register(ws: WebSocket, hello: Hello, addr: string): Conn {
    const now = this.opts.clock.now();
    const old = this.conns.get(hello.name);
    if (old) old.ws.close(4000, "replaced by a new connection from the same runner");
    const session: RunnerSession = {
      name: hello.name,
      tags: hello.tags,
      addr,
      connectedAt: now,
      lastSeen: now,
    };
    const conn = { session, ws };
    this.conns.set(hello.name, conn);
    if (hello.version !== WIRE_VERSION)
      this.opts.logger.warn("runner speaks another wire version", {
        runner: hello.name,
        version: hello.version,
      });
    const unknown = this.handler?.onHello(session, hello) ?? [];
    ws.send(
      encodeFrame({
        type: "welcome",
        node: this.opts.nodeName,
        unknown,
        heartbeat_ms: this.opts.heartbeatMs,
      }),
    );
    // Results finished while disconnected arrive with the hello and are processed like live ones.
    for (const r of hello.pending_results) this.handler?.onResult(hello.name, r);
    this.opts.logger.info("runner connected", {
      runner: hello.name,
      tags: hello.tags,
      running: hello.running.length,
    });
    return conn;
  }

  private scheduleHeartbeat(): void {
    if (this.stopped) return;
    this.heartbeat = this.opts.clock.setTimeout(() => {
      const now = this.opts.clock.now();
      for (const c of this.conns.values()) {
        // A runner silent for three heartbeats is gone; its executions fall to the lease.
        if (now - c.session.lastSeen > 3 * this.opts.heartbeatMs) c.ws.terminate();
        else c.ws.send(encodeFrame({ type: "ping", ts: now }));
      }
      this.scheduleHeartbeat();
    }, this.opts.heartbeatMs);
  }
}
