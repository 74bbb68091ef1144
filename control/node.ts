import type { Logger } from "../shared";
import type { ClusterMembership, RaftStreamServer, StreamRaftTransport } from "./cluster";
import type { AgentConfig } from "./config";
import type { RaftConsensus } from "./consensus";
import type { Dispatcher } from "./dispatch";
import type { ControlServer } from "./http";
import type { RunnerHub } from "./hub";
import type { Scheduler } from "./scheduler";
import type { SqliteLogStore, StateDb } from "./store";

/** Where a node is in its life; `stop` from any phase ends in `stopped`, and so does a failed `start`. */
export type NodePhase = "created" | "starting" | "running" | "stopping" | "stopped";

/** A node's own runner: started once the node listens, drained first on stop. */
export interface LocalRunner {
  start(): Promise<void>;
  stop(graceMs: number): Promise<void>;
  reconnectNow(): void;
}

/** The parts of a control node, built and wired by the composition root (control/main.ts). */
export interface ControlParts {
  config: AgentConfig;
  logger: Logger;
  /** More than one node expected, or --join given: enter a cluster rather than start alone. */
  clustered: boolean;
  server: ControlServer;
  db: StateDb;
  raftLog: SqliteLogStore;
  /** Writes Raft snapshots off the event loop; stopped after Raft. */
  snapshotWriter?: { close(): Promise<void> } | undefined;
  raft: RaftConsensus;
  transport: StreamRaftTransport | undefined;
  raftStreams: RaftStreamServer | undefined;
  membership: ClusterMembership;
  hub: RunnerHub;
  dispatcher: Dispatcher;
  scheduler: Scheduler;
  /** Builds the local runner once the node's address is known; absent with --no-local-runner. */
  localRunner: ((advertise: string) => LocalRunner) | undefined;
  /** Periodic work started once the node runs and stopped first on the way down. */
  background?: { start(): void; stop(): void }[];
  /** This node's gossip member: started once the address is known, leaves on a graceful stop. */
  gossip?: GossipPart;
}

/** A control node's member of the gossip pool, as the node drives it. */
export interface GossipPart {
  /** Binds and joins; `advertise` is the node's HTTP host:port. */
  start(advertise: string): Promise<void>;
  /** Graceful leave (the pool lists this node `left`). */
  leave(): Promise<void>;
  /** Closes the socket (idempotent). */
  stop(): Promise<void>;
}

/** Where a listening node is. */
interface Listening {
  /** The address the HTTP server listens on (the resolved port when 0 was asked). */
  address: string;
  /** The address other nodes and runners reach this node at. */
  advertise: string;
}

/** How long a stopping node waits for results already being committed before it closes the log. */
const QUIESCE_MS = 2_000;

/**
 * A control node's lifecycle: `create` takes its wired parts, `start` listens, enters the cluster (or
 * starts alone) and starts the local runner, `stop` drains and closes them in order. Nothing here
 * decides anything about jobs; see control/main.ts for what the parts are and how they connect.
 */
export class ControlNode {
  private current: NodePhase = "created";
  private listening: Listening | undefined;
  private runner: LocalRunner | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly stopped: Promise<void>;
  private markStopped: () => void = () => {};

  private constructor(private readonly parts: ControlParts) {
    this.stopped = new Promise((resolve) => {
      this.markStopped = resolve;
    });
  }

  /** Takes the parts the composition root built; nothing runs until `start`. */
  static create(parts: ControlParts): ControlNode {
    return new ControlNode(parts);
  }

  /** The node's phase. */
  get phase(): NodePhase {
    return this.current;
  }

  /** The address the HTTP server listens on ("" before it listens). */
  get address(): string {
    return this.listening?.address ?? "";
  }

  /** The address other nodes and runners reach this node at ("" before it listens). */
  get advertise(): string {
    return this.listening?.advertise ?? "";
  }

  /** http, or https when TLS is configured. */
  get scheme(): "http" | "https" {
    return this.parts.server.scheme;
  }

  /** The node's own runner, once started. */
  get localRunner(): LocalRunner | undefined {
    return this.runner;
  }

  /**
   * Listens, enters the cluster (or starts alone), then starts the local runner. If any step fails,
   * everything opened is closed again, the node is `stopped`, and the error is thrown.
   */
  start(): Promise<void> {
    if (this.current !== "created")
      return Promise.reject(new Error(`control node: start() while ${this.current}`));
    this.current = "starting";
    this.starting = this.run().catch(async (e: unknown) => {
      await this.release();
      this.finish();
      throw e;
    });
    return this.starting;
  }

  private async run(): Promise<void> {
    const { config: c, logger: log, server, hub, membership, clustered } = this.parts;
    const address = await server.listen(c.http_addr);
    this.listening = {
      address,
      advertise: c.advertise_addr ?? address.replace(/^0\.0\.0\.0:/, "127.0.0.1:"),
    };
    hub.start();
    await this.parts.gossip?.start(this.listening.advertise);
    if (clustered) await membership.enterCluster();
    else await membership.startAlone();
    this.current = "running";
    for (const b of this.parts.background ?? []) b.start();
    log.info("control node started", {
      http: `${this.scheme}://${address}`,
      data: c.data_dir,
      mode: clustered ? "cluster" : "single",
    });
    const runner = this.parts.localRunner?.(this.listening.advertise);
    if (runner) {
      this.runner = runner;
      // In a cluster the leader may not be elected yet; the runner connects when it is.
      if (clustered) void runner.start();
      else await runner.start();
    }
  }

  /** Resolves once the node has stopped (SIGTERM, or POST /v1/leave). */
  whenStopped(): Promise<void> {
    return this.stopped;
  }

  /**
   * Graceful stop: scheduling stops at once, running executions get `shutdown_grace` to finish
   * and report, their results commit, then the server, consensus and databases close. A node that
   * never started just closes what it opened; one still starting finishes starting first.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      if (this.current === "starting") await this.starting?.catch(() => undefined);
      if (this.current === "stopped") return;
      if (this.current === "created") {
        await this.release();
        this.finish();
        return;
      }
      this.current = "stopping";
      const p = this.parts;
      p.logger.info("stopping: no new runs; waiting for running executions", {
        graceMs: p.config.shutdown_grace,
      });
      p.scheduler.stop();
      await this.runner?.stop(p.config.shutdown_grace);
      // The results the runners reported are being committed: let them land before the log closes.
      await p.dispatcher.quiesce(QUIESCE_MS);
      p.dispatcher.stopLeading();
      await p.gossip?.leave();
      await this.release();
      this.finish();
      p.logger.info("stopped");
    })();
    return this.stopping;
  }

  /** Closes every part in dependency order; safe on parts that never started. */
  private async release(): Promise<void> {
    const p = this.parts;
    for (const b of p.background ?? []) b.stop();
    await p.gossip?.stop();
    p.hub.stop();
    // Upgraded sockets count as the server's connections: close peers' Raft streams or close() waits.
    p.raftStreams?.close();
    await p.server.close();
    await p.raft.stop();
    await p.snapshotWriter?.close();
    await p.transport?.close();
    p.raftLog.close();
    p.db.close();
  }

  private finish(): void {
    this.current = "stopped";
    this.markStopped();
  }
}
