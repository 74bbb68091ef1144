import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import type { Clock, Logger, TimerHandle } from "../../shared";
import {
  bearerToken,
  decodeRunnerFrame,
  encodeFrame,
  type Hello,
  mergeRunnerTags,
  RUNNER_REJECTED_HEADER,
  safeEqual,
  WIRE_VERSION,
} from "../../shared";
import type { RunnerEvents } from "./runner-events";
import type { RunnerSession, RunnerSessions } from "./runner-sessions";

/** Path runners connect to on a control node's HTTP port. */
export const RUNNER_WS_PATH = "/_runner/ws";

/** Hub options. */
export interface HubOptions {
  /** The registry the hub fills and the dispatcher sends through. */
  sessions: RunnerSessions<WebSocket>;
  /** Who hears what runners report (the dispatcher). */
  events: RunnerEvents;
  clock: Clock;
  logger: Logger;
  /**
   * Shared secret the control nodes' own (embedded) runners present (Authorization: Bearer or
   * ?token=); empty = no check at all (tests).
   */
  token: string;
  /**
   * Checks a remote runner's own credential (`drc.<id>.<secret>`): the registered name it must use
   * in its hello and the tags its join token forces, or undefined when unknown or revoked.
   */
  authenticate?: (presented: string) => { name: string; tags: Record<string, string> } | undefined;
  heartbeatMs: number;
  nodeName: string;
  /**
   * Where runners must go instead: undefined while this node leads, the leader's host:port when
   * another node leads, null when no leader is known.
   */
  redirect?: () => string | null | undefined;
  /** ws, or wss when the node serves TLS. */
  wsScheme?: "ws" | "wss";
  /**
   * The cluster's gossip keyring (primary first), sent to every runner right after its welcome so a
   * runner that was away during a rotation re-keys on reconnect; null before the first `keys` operation.
   */
  keyring?: () => string[] | null;
  /** The control nodes' gossip addresses, told to runners in the welcome (they join the pool there). */
  gossipSeeds?: () => string[];
  /**
   * http(s):// base URLs of every control node (this one included), told to runners in the welcome:
   * when their saved control node is down they reconnect through another one.
   */
  controlUrls?: () => string[];
  /**
   * Resolves once this node has applied everything committed (Consensus.readBarrier): a leader
   * checks an unknown runner credential again after it before refusing it.
   */
  settled?: () => Promise<void>;
}

interface Conn {
  session: RunnerSession;
  ws: WebSocket;
}

/** Who opened a socket: an embedded runner (shared token, any name) or a registered one (its name, forced tags). */
type Presenter = { kind: "shared" } | { kind: "registered"; name: string; tags: Record<string, string> };

/** Close code sent to a runner whose credential was revoked. */
export const REVOKED_CLOSE_CODE = 4003;

/** How long a new leader may take to apply what was committed before it says a credential is unknown. */
const SETTLE_MS = 3000;

/** The control URLs a welcome may carry: a malformed one would make the runner drop the whole frame. */
function welcomeUrls(urls: readonly string[]): string[] {
  return urls.filter((u) => u.length <= 300 && URL.canParse(u) && /^https?:/.test(u)).slice(0, 64);
}

/** The leader's final answer to an unknown or revoked credential. */
function rejectSocket(socket: Duplex): void {
  socket.write(
    `HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\n${RUNNER_REJECTED_HEADER}: revoked\r\nConnection: close\r\n\r\nrunner credential rejected (unknown or revoked)\n`,
  );
  socket.destroy();
}

/** No leader yet (or this one is not settled): the runner asks again shortly. */
function noLeader(socket: Duplex): void {
  socket.write(
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nno leader is elected yet\n",
  );
  socket.destroy();
}

/**
 * The leader's WebSocket hub: accepts runner sockets, registers one session per runner in
 * `sessions`, sends heartbeats, and reports every frame a runner sends to `events`.
 */
export class RunnerHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 8 * 1024 * 1024 });
  private heartbeat: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly opts: HubOptions) {}

  private get events(): RunnerEvents {
    return this.opts.events;
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
    for (const c of this.opts.sessions.entries()) c.socket.close(1001, "control node stopping");
    this.opts.sessions.clear();
    this.wss.close();
  }

  /** Takes over an HTTP upgrade on RUNNER_WS_PATH; returns false for other paths. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname !== RUNNER_WS_PATH) return false;
    const given = bearerToken(req.headers.authorization) || url.searchParams.get("token") || "";
    // Only the leader judges a credential: a follower may not have applied a join (or a revoke) the
    // leader committed, and a runner takes a 401 as final. A follower sends every runner on.
    if (this.sendOn(socket, url)) return true;
    const who = this.identify(given);
    if (who) {
      this.upgrade(req, socket, head, who);
      return true;
    }
    if (!given.startsWith("drc.") || !this.opts.settled) {
      rejectSocket(socket);
      return true;
    }
    // A new leader may not have applied every committed entry yet (a join committed just before
    // the election): look again once it has, and say 401 only then.
    let timer: TimerHandle | undefined;
    const timeout = new Promise<"late">((r) => {
      timer = this.opts.clock.setTimeout(() => r("late"), SETTLE_MS);
    });
    void Promise.race([this.settledShared().then(() => "settled" as const), timeout])
      .catch(() => "late" as const)
      .then((outcome) => {
        if (timer) this.opts.clock.clearTimeout(timer);
        if (socket.destroyed || this.sendOn(socket, url)) return;
        const again = outcome === "settled" ? this.identify(given) : undefined;
        if (again) this.upgrade(req, socket, head, again);
        else if (outcome === "settled") rejectSocket(socket);
        else noLeader(socket);
      });
    return true;
  }

  /**
   * One read barrier for every unknown credential waiting at once: anyone can send a `drc.` token,
   * and a barrier each would let a flood of them cost the leader a round of heartbeats apiece. A
   * barrier already under way covers them too: what they wait for was committed before this term.
   */
  private settledShared(): Promise<void> {
    // Only a recent one: a barrier from before a leadership change may never resolve.
    const now = this.opts.clock.now();
    if (!this.settling || now - this.settling.since > SETTLE_MS) {
      const p = this.opts.settled!().finally(() => {
        if (this.settling?.p === p) this.settling = undefined;
      });
      this.settling = { p, since: now };
    }
    return this.settling.p;
  }
  private settling: { p: Promise<void>; since: number } | undefined;

  /** Answers a runner this node must not take (no leader: 503; another node leads: 307); true when it did. */
  private sendOn(socket: Duplex, url: URL): boolean {
    const to = this.opts.redirect?.();
    if (to === undefined) return false;
    if (to === null) noLeader(socket);
    else {
      // Runners talk to the leader only; ws clients follow this redirect.
      socket.write(
        `HTTP/1.1 307 Temporary Redirect\r\nLocation: ${this.opts.wsScheme ?? "ws"}://${to}${url.pathname}${url.search}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
      socket.destroy();
    }
    return true;
  }

  /** Who presents `given`: an embedded runner, a registered one, or nobody this node knows. */
  private identify(given: string): Presenter | undefined {
    if (!this.opts.token || safeEqual(given, this.opts.token)) return { kind: "shared" };
    const r = this.opts.authenticate?.(given);
    return r ? { kind: "registered", ...r } : undefined;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, who: Presenter): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req.socket.remoteAddress ?? "", who));
  }

  /** Closes every runner session (leadership moved: runners reconnect and find the new leader). */
  disconnectAll(reason: string): void {
    for (const c of this.opts.sessions.entries()) c.socket.close(4001, reason);
    this.opts.sessions.clear();
  }

  /**
   * Cuts a revoked runner's stream now (its credential is already gone from the state, so it cannot
   * come back). Embedded runners, which use the shared token, are not affected.
   */
  revoke(name: string): void {
    const conn = this.registered.get(name);
    if (!conn) return;
    this.registered.delete(name);
    conn.ws.close(REVOKED_CLOSE_CODE, "runner credential revoked");
  }

  /** Sockets of registered runners, by name, for revoke. */
  private readonly registered = new Map<string, Conn>();

  private accept(ws: WebSocket, addr: string, who: Presenter): void {
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
        if (who.kind === "registered" && msg.name !== who.name) {
          ws.close(1008, `this credential is runner "${who.name}"'s`.slice(0, 120));
          return;
        }
        conn = this.register(
          ws,
          who.kind === "registered" ? { ...msg, tags: mergeRunnerTags(msg.tags, who.tags) } : msg,
          addr,
        );
        if (who.kind === "registered") this.registered.set(msg.name, conn);
        return;
      }
      const name = conn.session.name;
      conn.session.lastSeen = this.opts.clock.now();
      switch (msg.type) {
        case "ack":
          this.events.onAck(name, msg);
          break;
        case "output":
          this.events.onOutput(name, msg);
          break;
        case "result":
          this.opts.sessions.finished(name, msg.execution_id);
          this.events.onResult(name, msg);
          break;
        case "ping":
          if (msg.running) this.events.onHeld(name, msg.running);
          ws.send(encodeFrame({ type: "pong", ts: msg.ts }));
          break;
        case "draining":
          // Keep the stream (its running executions still report) but send it nothing new.
          this.opts.sessions.setDraining(name);
          this.opts.logger.info("runner draining", { runner: name });
          break;
        case "pong":
        case "hello":
          break;
      }
    });
    ws.on("close", () => {
      this.opts.clock.clearTimeout(helloTimer);
      if (conn && this.registered.get(conn.session.name) === conn) this.registered.delete(conn.session.name);
      if (conn && this.opts.sessions.remove(conn.session.name, ws)) {
        this.opts.logger.info("runner disconnected", { runner: conn.session.name });
        this.events.onDisconnect(conn.session.name);
      }
    });
    ws.on("error", (err) =>
      this.opts.logger.warn("runner socket error", { runner: conn?.session.name, err: String(err) }),
    );
  }

  private register(ws: WebSocket, hello: Hello, addr: string): Conn {
    const now = this.opts.clock.now();
    const session: RunnerSession = {
      name: hello.name,
      tags: hello.tags,
      addr,
      connectedAt: now,
      lastSeen: now,
      ...(hello.max_concurrent === undefined ? {} : { maxConcurrent: hello.max_concurrent }),
      ...(hello.executors === undefined ? {} : { executors: hello.executors }),
    };
    const conn = { session, ws };
    const old = this.opts.sessions.add(session, ws);
    this.opts.sessions.setHeld(hello.name, hello.running);
    if (old) old.socket.close(4000, "replaced by a new connection from the same runner");
    if (hello.version !== WIRE_VERSION)
      this.opts.logger.warn("runner speaks another wire version", {
        runner: hello.name,
        version: hello.version,
      });
    const unknown = this.events.onHello(session, hello);
    ws.send(
      encodeFrame({
        type: "welcome",
        node: this.opts.nodeName,
        unknown,
        heartbeat_ms: this.opts.heartbeatMs,
        ...(this.opts.gossipSeeds ? { gossip: this.opts.gossipSeeds().slice(0, 64) } : {}),
        ...(this.opts.controlUrls ? { controls: welcomeUrls(this.opts.controlUrls()) } : {}),
      }),
    );
    const keys = this.opts.keyring?.();
    if (keys?.length) ws.send(encodeFrame({ type: "keyring", keys }));
    // Results finished while disconnected arrive with the hello and are processed like live ones.
    for (const r of hello.pending_results) this.events.onResult(hello.name, r);
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
      for (const c of this.opts.sessions.entries()) {
        // A runner silent for three heartbeats is gone; its executions fall to the lease.
        if (now - c.session.lastSeen > 3 * this.opts.heartbeatMs) c.socket.terminate();
        else c.socket.send(encodeFrame({ type: "ping", ts: now }));
      }
      this.scheduleHeartbeat();
    }, this.opts.heartbeatMs);
  }
}
