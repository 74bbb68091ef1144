import type WebSocket from "ws";
import type { Clock, Logger, TimerHandle } from "../shared";
import {
  type ControlMessage,
  decodeControlFrame,
  encodeFrame,
  MAX_OUTPUT_CHUNK,
  type Result,
  RUNNER_REJECTED_HEADER,
  type Run,
  type RunnerMessage,
  type Welcome,
  WIRE_VERSION,
} from "../shared";
import type { Executor } from "./executors";

/** Opens a client WebSocket (the real one: `(url, o) => new WebSocket(url, o)` from ws). */
export type WebSocketFactory = (url: string, options: WebSocket.ClientOptions) => WebSocket;

/**
 * A reconnect delay around `base`: uniformly in [base/2, base × 1.5), so a fleet that lost its leader
 * at the same moment does not reconnect in lockstep.
 */
export function backoffDelay(base: number, random: () => number): number {
  return Math.round(base * (0.5 + random()));
}

/** WebSocket.OPEN, without loading ws for one constant. */
const OPEN: typeof WebSocket.OPEN = 1;

/** Options of a runner agent. */
export interface RunnerAgentOptions {
  /** ws:// or wss:// URL of a control node's runner endpoint: tried first. */
  url: string;
  /**
   * Other control nodes' runner endpoints, tried in turn when the current one cannot be reached
   * (see `setFallbackUrls`); any of them redirects to the leader.
   */
  fallbackUrls?: string[];
  token: string;
  name: string;
  tags: Record<string, string>;
  executors: Map<string, Executor>;
  clock: Clock;
  logger: Logger;
  /** Connects to the control node. */
  webSocket: WebSocketFactory;
  /** A float in [0, 1), for jitter. */
  random: () => number;
  /** Live output is coalesced for this long before a frame is sent. */
  flushMs?: number;
  /** Stop sending live chunks (the final result still carries the tail) above this socket backlog. */
  maxBacklogBytes?: number;
  /** Most executions at once (`--max-concurrent`), told to the leader; more are refused. */
  maxConcurrent?: number;
  /** Longest reconnect back-off, ms (default 5000). */
  maxBackoffMs?: number;
  /**
   * Called when the leader refuses this runner's credential (a 401 carrying RUNNER_REJECTED_HEADER,
   * or the stream closed with 4003 because the runner was revoked): retrying cannot help, the
   * service stops. A bare 401 (an older follower that has not applied the join) is retried.
   */
  onRejected?: (reason: string) => void;
  /**
   * Called with the cluster's gossip keyring (primary first) when the leader sends it: after each
   * welcome and on every rotation. A runner with a gossip member passes gossip's followKeyring here.
   */
  onKeyring?: (keys: string[]) => void;
  /** Called on every welcome (the runner service reads the control nodes' gossip addresses from it). */
  onWelcome?: (welcome: Welcome) => void;
}

/** What a runner agent reports about itself (dkron-runner status). */
export interface AgentStatus {
  connected: boolean;
  /** The control node (the leader) that welcomed this connection; null before the first welcome. */
  leader: string | null;
  running: string[];
  /** Results not yet acknowledged by the leader. */
  pendingResults: number;
  /** Output bytes lost before the tail the results carried (all executions so far). */
  droppedOutputBytes: number;
  /** Live output bytes skipped under back-pressure (the result's tail still had them when short). */
  droppedLiveBytes: number;
  state: "idle" | "running" | "draining" | "stopped";
}

interface Running {
  abort: AbortController;
  /** When the executor said the run really started (`onStarted`), by this runner's clock. */
  startedAt: number | undefined;
  seq: number;
  /** Output bytes the executor produced. */
  total: number;
  /** Live output bytes skipped because the socket was backed up (the leader was slow or gone). */
  droppedLive: number;
  buffered: string;
  flushTimer: TimerHandle | undefined;
  done: Promise<void>;
}

/**
 * A runner: keeps one WebSocket to the leader, runs what it is sent (the execution id is the
 * idempotency key), streams output in bounded chunks and re-sends each result until the leader
 * acknowledges it, across reconnects.
 */
export class RunnerAgent {
  private ws: WebSocket | undefined;
  private readonly running = new Map<string, Running>();
  private readonly unacked = new Map<string, Result>();
  private readonly finished = new Set<string>();
  private readonly bornAt: number;
  /** Output bytes lost before the tail results carry (all executions so far). */
  private droppedBytes = 0;
  /** Live output bytes skipped under back-pressure (all executions so far; the tail still had them if short). */
  private droppedLiveBytes = 0;
  private reconnectDelay = 100;
  /** The next reconnect's delay when it must not come from (or grow) the back-off. */
  private retryIn: number | undefined;
  private redirectTo: string | undefined;
  /** The control nodes' runner endpoints in the order they are tried: `url` first. */
  private urls: string[];
  /** Index in `urls` of the node the next (not redirected) attempt goes to. */
  private cursor = 0;
  /** The socket the last welcome came on: a socket that closes without one was a failed attempt. */
  private welcomedOn: WebSocket | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private pingTimer: TimerHandle | undefined;
  private heartbeatMs = 5000;
  /** When the control node last sent anything on the current connection. */
  private lastHeard = 0;
  private state: "idle" | "running" | "draining" | "stopped" = "idle";
  private connectedOnce: Promise<void>;
  private leader: string | null = null;
  private markConnected!: () => void;

  constructor(private readonly opts: RunnerAgentOptions) {
    this.bornAt = opts.clock.now();
    this.urls = [...new Set([opts.url, ...(opts.fallbackUrls ?? [])])];
    this.connectedOnce = new Promise((r) => {
      this.markConnected = r;
    });
  }

  /** Connects (and keeps reconnecting with back-off). Resolves after the first welcome. */
  start(): Promise<void> {
    this.state = "running";
    this.connect();
    return this.connectedOnce;
  }

  /** Connection, leader, running executions and dropped-output counters. */
  status(): AgentStatus {
    return {
      connected: this.ws?.readyState === OPEN && this.leader !== null,
      leader: this.leader,
      running: this.runningIds(),
      pendingResults: this.unacked.size,
      droppedOutputBytes: this.droppedBytes,
      droppedLiveBytes: this.droppedLiveBytes,
      state: this.state,
    };
  }

  /**
   * Replaces the other control nodes' endpoints (the leader's welcome names them). The one this
   * runner reaches now stays next in line, so a working connection path is not given up.
   */
  setFallbackUrls(urls: readonly string[]): void {
    const current = this.urls[this.cursor % this.urls.length];
    this.urls = [...new Set([this.opts.url, ...urls])];
    this.cursor = Math.max(0, this.urls.indexOf(current ?? this.opts.url));
  }

  /** The control nodes' endpoints in the order they are tried. */
  controlUrls(): string[] {
    return [...this.urls];
  }

  /** Executions running now. */
  runningIds(): string[] {
    return [...this.running.keys()];
  }

  /**
   * Stops taking work, lets running executions finish within `graceMs` (then cancels them), waits
   * briefly for their results to be acknowledged, and closes the connection.
   */
  async stop(graceMs: number): Promise<void> {
    if (this.state === "stopped") return;
    this.state = "draining";
    // The leader stops sending runs here (another runner takes them) but keeps the stream for results.
    this.send({ type: "draining" });
    const all = Promise.all([...this.running.values()].map((r) => r.done));
    const timedOut = await Promise.race([all.then(() => false), this.sleep(graceMs).then(() => true)]);
    if (timedOut) {
      this.opts.logger.warn("grace period over; cancelling running executions", { count: this.running.size });
      for (const r of this.running.values()) r.abort.abort();
      await Promise.race([all, this.sleep(5000)]);
    }
    for (let i = 0; i < 20 && this.unacked.size > 0 && this.ws?.readyState === OPEN; i++)
      await this.sleep(50);
    this.state = "stopped";
    if (this.reconnectTimer) this.opts.clock.clearTimeout(this.reconnectTimer);
    if (this.pingTimer) this.opts.clock.clearTimeout(this.pingTimer);
    this.ws?.close(1000, "runner stopping");
    // Idle keep-alive connections would keep the process alive after the runner stopped.
    await Promise.all(
      [...this.opts.executors.values()].map((e) =>
        e
          .close?.()
          .catch((err: unknown) =>
            this.opts.logger.warn("could not close an executor", { executor: e.name, err: String(err) }),
          ),
      ),
    );
  }

  /**
   * Drops the current connection (or pending retry) and connects again now: the control node this
   * runner belongs to has just become the leader, and its scheduler waits for a runner.
   */
  reconnectNow(): void {
    if (this.state !== "running") return;
    if (this.reconnectTimer) this.opts.clock.clearTimeout(this.reconnectTimer);
    if (this.pingTimer) this.opts.clock.clearTimeout(this.pingTimer);
    this.reconnectTimer = undefined;
    const old = this.ws;
    // Its close handler sees another socket current and stays quiet.
    this.ws = undefined;
    old?.terminate();
    this.redirectTo = undefined;
    this.retryIn = undefined;
    this.reconnectDelay = 100;
    this.connect();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => this.opts.clock.setTimeout(r, ms));
  }

  private connect(): void {
    if (this.state === "stopped") return;
    const url = this.redirectTo ?? this.urls[this.cursor % this.urls.length] ?? this.opts.url;
    this.redirectTo = undefined;
    const ws = this.opts.webSocket(url, {
      headers: { authorization: `Bearer ${this.opts.token}` },
      handshakeTimeout: 5000,
    });
    this.ws = ws;
    // A control node that is not the leader answers 307 with the leader's URL: go there next,
    // keeping the credential (ws's own redirect following drops it across hosts).
    ws.on("unexpected-response", (_req, res) => {
      const location = res.headers.location;
      if (res.statusCode === 307 && location) {
        this.redirectTo = location;
        this.reconnectDelay = 0;
      } else if (res.statusCode === 503) {
        // The node is up but no leader is elected yet: one is moments away (an election timeout),
        // so ask again shortly instead of backing off as from a dead node; jittered for big fleets.
        this.retryIn = 100 + Math.floor(this.opts.random() * 100);
      } else if (res.statusCode === 401 && res.headers[RUNNER_REJECTED_HEADER] && this.opts.onRejected) {
        // Only the leader says this, after applying everything committed: the credential is gone.
        this.opts.onRejected(
          "the control node rejected this runner's credential (revoked, or unknown to the cluster)",
        );
      }
      res.resume();
      ws.terminate();
    });
    ws.on("open", () => {
      this.send({
        type: "hello",
        version: WIRE_VERSION,
        name: this.opts.name,
        tags: this.opts.tags,
        running: [...this.running.keys()],
        pending_results: [...this.unacked.values()],
        seen: [...this.finished].slice(-1000),
        uptime_ms: Math.max(0, this.opts.clock.now() - this.bornAt),
        executors: [...this.opts.executors.keys()],
        ...(this.opts.maxConcurrent === undefined ? {} : { max_concurrent: this.opts.maxConcurrent }),
      });
      // A drain that began while the stream was down (or before a leader change) is told again.
      if (this.state === "draining") this.send({ type: "draining" });
    });
    ws.on("message", (data) => {
      this.lastHeard = this.opts.clock.now();
      const d = decodeControlFrame(String(data));
      if (!d.ok) {
        this.opts.logger.warn("bad frame from control node", { error: d.error });
        return;
      }
      this.onMessage(d.msg);
    });
    ws.on("close", (code) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.leader = null;
      if (code === 4003 && this.opts.onRejected)
        this.opts.onRejected("this runner was revoked by an administrator");
      if (this.pingTimer) this.opts.clock.clearTimeout(this.pingTimer);
      if (this.state === "stopped") return;
      // This node could not be reached, had no leader, or refused for now: try the next one it
      // knows (a redirect is followed first; a stream that was up retries the same node).
      if (this.welcomedOn !== ws && this.redirectTo === undefined)
        this.cursor = (this.cursor + 1) % this.urls.length;
      const delay = this.retryIn ?? backoffDelay(this.reconnectDelay, this.opts.random);
      if (this.retryIn === undefined)
        this.reconnectDelay = Math.min(
          Math.max(this.reconnectDelay * 2, 100),
          this.opts.maxBackoffMs ?? 5000,
        );
      this.retryIn = undefined;
      this.opts.logger.info("disconnected from control node; reconnecting", {
        inMs: delay,
        to: this.redirectTo ?? this.urls[this.cursor],
      });
      this.reconnectTimer = this.opts.clock.setTimeout(() => this.connect(), delay);
    });
    ws.on("error", (err) => this.opts.logger.debug("runner socket error", { err: String(err) }));
  }

  private onMessage(msg: ControlMessage): void {
    switch (msg.type) {
      case "welcome":
        this.welcomedOn = this.ws;
        this.reconnectDelay = 100;
        this.heartbeatMs = msg.heartbeat_ms;
        if (this.leader !== msg.node) this.opts.logger.info("connected to the leader", { leader: msg.node });
        this.leader = msg.node;
        for (const id of msg.unknown) this.running.get(id)?.abort.abort();
        this.schedulePing();
        this.opts.onWelcome?.(msg);
        this.markConnected();
        break;
      case "run":
        this.onRun(msg);
        break;
      case "cancel":
        this.running.get(msg.execution_id)?.abort.abort();
        break;
      case "result_ack":
        this.unacked.delete(msg.execution_id);
        break;
      case "ping":
        this.send({ type: "pong", ts: msg.ts });
        break;
      case "pong":
        break;
      case "drain":
        if (this.state === "running") this.state = "draining";
        this.send({ type: "draining" });
        break;
      case "keyring":
        this.opts.onKeyring?.(msg.keys);
        break;
    }
  }

  private onRun(run: Run): void {
    const id = run.execution_id;
    // Idempotent: a run re-sent by a new leader is acknowledged, never started twice.
    if (this.running.has(id) || this.finished.has(id)) {
      const startedAt = this.running.get(id)?.startedAt;
      this.send({
        type: "ack",
        execution_id: id,
        ...(startedAt === undefined ? {} : { started_at: startedAt }),
      });
      const r = this.unacked.get(id);
      if (r) this.send(r);
      return;
    }
    // When the runner took the run on; the executor's onStarted gives the real start.
    const tookAt = this.opts.clock.now();
    const executor = this.opts.executors.get(run.executor);
    const full = this.opts.maxConcurrent !== undefined && this.running.size >= this.opts.maxConcurrent;
    if (this.state !== "running" || !executor || full) {
      const error = !executor
        ? `executor "${run.executor}" is not available on runner ${this.opts.name}`
        : full
          ? `runner ${this.opts.name} is at its max_concurrent (${this.opts.maxConcurrent})`
          : "runner is draining and takes no new work";
      this.opts.logger.warn("run refused", { job: run.job_name, execution: id, reason: error });
      this.complete(id, {
        type: "result",
        execution_id: id,
        success: false,
        output: "",
        error,
        exit_code: null,
        started_at: tookAt,
        finished_at: this.opts.clock.now(),
      });
      return;
    }
    const abort = new AbortController();
    const entry: Running = {
      abort,
      startedAt: undefined,
      seq: 0,
      total: 0,
      droppedLive: 0,
      buffered: "",
      flushTimer: undefined,
      done: Promise.resolve(),
    };
    this.running.set(id, entry);
    this.opts.logger.info("run started", { job: run.job_name, execution: id, attempt: run.attempt });
    entry.done = executor
      .execute({
        identity: { jobName: run.job_name, executionId: id, scheduledAt: run.scheduled_at },
        config: run.config,
        ...(run.payload === undefined ? {} : { payload: run.payload }),
        signal: abort.signal,
        onOutput: (chunk) => this.onOutput(id, entry, chunk),
        // The ack says the run started and when, so the leader records its start while it runs.
        onStarted: () => {
          if (entry.startedAt !== undefined) return;
          entry.startedAt = this.opts.clock.now();
          this.send({ type: "ack", execution_id: id, started_at: entry.startedAt });
        },
      })
      .catch((e: unknown) => ({
        success: false,
        output: "",
        error: `runner: executor crashed: ${String(e)}`,
        exitCode: undefined,
      }))
      .then((res) => {
        this.flush(id, entry);
        this.running.delete(id);
        // The result carries the tail: what came before it (live chunks skipped while the socket was
        // backed up are in the tail when it is short enough) is gone, and `dropped_bytes` says how
        // much; the leader writes the one note about it (with whatever it cuts itself).
        const truncated = "truncated" in res && res.truncated === true;
        const dropped = truncated ? Math.max(0, entry.total - Buffer.byteLength(res.output, "utf8")) : 0;
        this.droppedLiveBytes += entry.droppedLive;
        this.droppedBytes += dropped;
        this.opts.logger.info("run finished", {
          job: run.job_name,
          execution: id,
          success: res.success,
          exitCode: res.exitCode ?? null,
          ms: this.opts.clock.now() - (entry.startedAt ?? tookAt),
          ...(dropped > 0 ? { droppedBytes: dropped } : {}),
        });
        this.complete(id, {
          type: "result",
          execution_id: id,
          success: res.success,
          output: res.output,
          ...(dropped > 0 ? { dropped_bytes: dropped } : {}),
          ...(res.error ? { error: res.error } : {}),
          exit_code: res.exitCode ?? null,
          // A run that never started (it could not spawn, or was cancelled first) reports when it was taken on.
          started_at: entry.startedAt ?? tookAt,
          finished_at: this.opts.clock.now(),
        });
      });
  }

  private complete(id: string, result: Result): void {
    this.finished.add(id);
    if (this.finished.size > 10_000) this.finished.delete(this.finished.values().next().value!);
    this.unacked.set(id, result);
    this.send(result);
  }

  private onOutput(id: string, entry: Running, chunk: string): void {
    entry.total += Buffer.byteLength(chunk, "utf8");
    entry.buffered += chunk;
    if (entry.buffered.length >= MAX_OUTPUT_CHUNK) this.flush(id, entry);
    else if (!entry.flushTimer)
      entry.flushTimer = this.opts.clock.setTimeout(() => this.flush(id, entry), this.opts.flushMs ?? 50);
  }

  private flush(id: string, entry: Running): void {
    if (entry.flushTimer) this.opts.clock.clearTimeout(entry.flushTimer);
    entry.flushTimer = undefined;
    while (entry.buffered.length) {
      const data = entry.buffered.slice(0, MAX_OUTPUT_CHUNK);
      entry.buffered = entry.buffered.slice(data.length);
      // Live output is a view: under backpressure it is skipped; the result carries the full tail.
      if (this.ws?.readyState !== OPEN || this.ws.bufferedAmount > (this.opts.maxBacklogBytes ?? 1 << 20)) {
        entry.droppedLive += Buffer.byteLength(data, "utf8");
        continue;
      }
      this.send({ type: "output", execution_id: id, seq: entry.seq++, data });
    }
  }

  private schedulePing(): void {
    if (this.pingTimer) this.opts.clock.clearTimeout(this.pingTimer);
    this.pingTimer = this.opts.clock.setTimeout(() => {
      // A leader that answers nothing for three heartbeats is gone even if its socket is not (a
      // frozen or partitioned process keeps the TCP connection open): leave it and find the leader.
      if (this.opts.clock.now() - this.lastHeard > 3 * this.heartbeatMs) {
        this.opts.logger.warn("control node stopped answering; reconnecting", {
          silentMs: this.opts.clock.now() - this.lastHeard,
        });
        this.ws?.terminate();
        return;
      }
      this.send({ type: "ping", ts: this.opts.clock.now(), running: [...this.running.keys()] });
      // A result the leader has not acknowledged (it may have lost leadership mid-commit) is re-sent.
      for (const r of this.unacked.values()) this.send(r);
      this.schedulePing();
    }, this.heartbeatMs);
  }

  private send(msg: RunnerMessage): void {
    if (this.ws?.readyState === OPEN) this.ws.send(encodeFrame(msg));
  }
}
