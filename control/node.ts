import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createAdaptorServer } from "@hono/node-server";
import { Hono } from "hono";
import WebSocket from "ws";
import { createApp as createEdgeApp } from "../edge/app";
import { notFound as edgeNotFound } from "../edge/middleware/errors";
import { RunnerAgent } from "../runner/agent";
import { createExecutors } from "../runner/executors";
import type { Clock } from "../shared/clock";
import type { Logger } from "../shared/logger";
import { ClusterMembership } from "./cluster/cluster-membership";
import { clusterRoutes, type Hello } from "./cluster/cluster-routes";
import { PeerBook } from "./cluster/peer-book";
import { RaftConsensus } from "./cluster/raft-consensus";
import { RaftStreamServer } from "./cluster/raft-stream-server";
import { StreamRaftTransport } from "./cluster/raft-transport";
import { type AgentConfig, VERSION } from "./config";
import type { Consensus } from "./consensus/consensus";
import { Dispatcher } from "./dispatch/dispatcher";
import { createControlApp } from "./http/control-app";
import { ControlService } from "./http/control-service";
import { incomingBodyText } from "./http/incoming-body";
import { createLocalControlClient } from "./http/local-control-client";
import { RUNNER_WS_PATH, RunnerHub } from "./hub/runner-hub";
import { seededRandom } from "./raft/random";
import { SqliteLogStore } from "./raft/sqlite-log-store";
import { Scheduler } from "./scheduler/scheduler";
import { openStateDb, type StateDb } from "./store/db";

/** Outside-world dependencies of a node (real ones come from the entry file, fakes from tests). */
export interface NodeDeps {
  clock: Clock;
  logger: Logger;
  random: () => number;
  /** Random secret generator (runner token when none is configured). */
  secret: () => string;
}

/** The real client WebSocket (ws), for the Raft transport and the local runner. */
const openWebSocket = (url: string, options: WebSocket.ClientOptions) => new WebSocket(url, options);

/** Raft timing per profile: ms per tick; election timeout is 10 ticks, randomised up to 20. */
const TICK_MS = { default: 100, fast: 30 } as const;

/** Dkron's automatic node tags plus the user's. */
export function nodeTags(c: AgentConfig, advertise: string): Record<string, string> {
  const port = advertise.slice(advertise.lastIndexOf(":") + 1);
  return {
    role: "dkron",
    dc: c.datacenter,
    region: c.region,
    version: VERSION,
    server: "true",
    ...(c.bootstrap_expect === 1 ? { bootstrap: "1" } : {}),
    expect: String(c.bootstrap_expect),
    rpc_addr: advertise,
    port,
    ...c.tags,
  };
}

/**
 * A control node: state database, Raft (a one-voter group when alone), scheduler,
 * dispatcher, runner hub, the HTTP server (edge /v1 app + control-api + Raft RPC + runner
 * WebSocket) and, by default, a local runner that connects over the protocol a remote one uses.
 */
export class ControlNode {
  private state: "new" | "running" | "stopping" | "stopped" = "new";
  private db!: StateDb;
  private consensus!: Consensus;
  private raft: RaftConsensus | undefined;
  private raftLog: SqliteLogStore | undefined;
  private transport: StreamRaftTransport | undefined;
  private raftStreams: RaftStreamServer | undefined;
  private peers!: PeerBook;
  private hub!: RunnerHub;
  private dispatcher!: Dispatcher;
  private scheduler!: Scheduler;
  private server!: Server;
  private runner: RunnerAgent | undefined;
  private membership: ClusterMembership | undefined;
  private stopping: Promise<void> | undefined;
  /** The address the HTTP server listens on (resolved port when 0 was asked). */
  address = "";
  /** The address other nodes and runners reach this node at. */
  advertise = "";

  private constructor(
    readonly config: AgentConfig,
    private readonly deps: NodeDeps,
  ) {}

  /** Builds a node from a resolved config. */
  static create(config: AgentConfig, deps: NodeDeps): ControlNode {
    return new ControlNode(config, deps);
  }

  /** http, or https when TLS is configured. */
  get scheme(): "http" | "https" {
    return this.config.tls_cert_file ? "https" : "http";
  }

  /** Whether this node forms or joins a cluster (more than one node expected, or --join given). */
  get clustered(): boolean {
    return this.config.bootstrap_expect > 1 || this.config.join.length > 0;
  }

  /**
   * Whether this node takes Raft streams and join requests from others: when clustered, and a single
   * node that has a cluster secret (so other nodes can --join it and grow it into a cluster).
   */
  get joinable(): boolean {
    return this.clustered || this.config.cluster_secret !== "";
  }

  /** Opens the state, starts the HTTP server, enters the cluster, and starts the local runner. */
  async start(): Promise<void> {
    const { config: c, deps } = this;
    const log = deps.logger.child({ node: c.node_name });
    // raft.db (FULL) is the durable record and state.db its replay (see StateDbOptions); a single
    // node is a one-voter Raft group, so the same holds there.
    this.db = openStateDb(join(c.data_dir, "state.db"), { synchronous: "NORMAL" });
    this.peers = new PeerBook(this.db, this.scheme);
    this.raftLog = SqliteLogStore.open(join(c.data_dir, "raft.db"));
    if (this.joinable) {
      if (!c.cluster_secret)
        log.warn("no --cluster-secret: Raft RPC between control nodes is not authenticated");
      this.transport = new StreamRaftTransport({
        self: c.node_name,
        secret: c.cluster_secret,
        logger: log,
        clock: deps.clock,
        webSocket: openWebSocket,
      });
      this.raftStreams = new RaftStreamServer({
        secret: c.cluster_secret,
        logger: log,
        receive: (msgs) => {
          if (!this.raftStarted) return false;
          this.raft?.receive(msgs);
          return true;
        },
      });
    }
    this.raft = new RaftConsensus({
      id: c.node_name,
      state: this.db,
      log: this.raftLog,
      send: (m) => this.transport?.send(m),
      clock: deps.clock,
      logger: log,
      random: seededRandom(Math.floor(deps.random() * 2 ** 32)),
      tickMs: TICK_MS[c.raft_profile],
      tunables: { electionTicks: 10, heartbeatTicks: 1, snapshotThreshold: c.raft_snapshot_threshold },
    });
    this.consensus = this.raft;
    this.membership = new ClusterMembership({
      config: c,
      raft: this.raft,
      raftLog: this.raftLog,
      db: this.db,
      peers: this.peers,
      transport: this.transport,
      clock: deps.clock,
      logger: log,
      tickMs: TICK_MS[c.raft_profile],
      joinable: this.joinable,
      advertise: () => this.advertise,
      scheme: () => this.scheme,
      nodeState: () => this.state,
      syncPeers: () => this.syncPeers(),
      stop: () => this.stop(),
    });
    const runnerToken = c.runner_token || c.cluster_secret || deps.secret();
    this.hub = new RunnerHub({
      clock: deps.clock,
      logger: log,
      token: runnerToken,
      heartbeatMs: c.heartbeat,
      nodeName: c.node_name,
      wsScheme: this.scheme === "https" ? "wss" : "ws",
      redirect: () => {
        if (this.consensus.isLeader()) return undefined;
        const leader = this.consensus.status().leader;
        return leader ? (this.peers.get(leader) ?? null) : null;
      },
    });
    this.dispatcher = new Dispatcher(
      {
        consensus: this.consensus,
        state: this.db,
        hub: this.hub,
        clock: deps.clock,
        logger: log,
        random: deps.random,
      },
      { retain: c.execution_retention, leaseMs: c.lease_timeout },
    );
    this.hub.setHandler(this.dispatcher);
    this.scheduler = new Scheduler({
      state: this.db,
      clock: deps.clock,
      logger: log,
      dispatcher: this.dispatcher,
      consensus: this.consensus,
    });
    this.wireLeadership(log);
    this.consensus.onApplied((_i, _cmd, result) => {
      if (result.ok && result.events.some((e) => e.kind === "peers.changed")) this.syncPeers();
    });
    this.raft?.onConf(() => this.syncPeers());

    await this.listen(log, runnerToken);
    this.hub.start();

    if (this.clustered) await this.membership.enterCluster();
    else await this.membership.startAlone();
    this.state = "running";
    log.info("control node started", {
      http: `${this.scheme}://${this.address}`,
      data: c.data_dir,
      mode: this.clustered ? "cluster" : "single",
    });

    if (c.local_runner) {
      this.runner = new RunnerAgent({
        url: `${this.scheme === "https" ? "wss" : "ws"}://${this.advertise}${RUNNER_WS_PATH}`,
        token: runnerToken,
        name: c.node_name,
        tags: nodeTags(c, this.advertise),
        executors: createExecutors({ clock: deps.clock }),
        clock: deps.clock,
        logger: log.child({ runner: c.node_name }),
        webSocket: openWebSocket,
        random: deps.random,
      });
      // In a cluster the leader may not be elected yet; the runner connects when it is.
      if (this.clustered) void this.runner.start();
      else await this.runner.start();
    }
  }

  private wireLeadership(log: Logger): void {
    const { config: c, deps } = this;
    let leading = false;
    this.consensus.onLeadership((leader) => {
      leading = leader;
      if (leader) {
        this.dispatcher.startLeading();
        this.replicatePeers(log);
        // Our own runner is the first the scheduler can use: connect it now, not at its next retry.
        this.runner?.reconnectNow();
        // Runners reconnect to a new leader within moments; firing before any is back would
        // record avoidable "no target" failures. Slots due meanwhile follow the catch-up policy.
        const deadline = deps.clock.now() + c.runner_settle;
        const startWhenSettled = () => {
          if (!leading || this.scheduler.isRunning()) return;
          if (this.hub.candidates().length > 0 || deps.clock.now() >= deadline) this.scheduler.start();
          else deps.clock.setTimeout(startWhenSettled, 20);
        };
        startWhenSettled();
      } else {
        // Stop at once: a deposed leader must not start another slot (apply would refuse it anyway).
        this.scheduler.stop();
        this.dispatcher.stopLeading();
        this.hub.disconnectAll("this node is no longer the leader");
      }
    });
  }

  /** The leader records addresses it learned outside the log so every node can reach every peer. */
  private replicatePeers(log: Logger): void {
    if (!this.raft) return;
    for (const [id, addr] of this.peers.unreplicated()) {
      this.consensus
        .propose({ type: "peer.set", at: this.deps.clock.now(), id, addr })
        .catch((e) => log.debug("peer.set not committed", { err: String(e) }));
    }
  }

  /** Whether Raft has started (Raft messages and join requests wait for it). */
  private get raftStarted(): boolean {
    return this.membership?.raftStarted ?? false;
  }

  private syncPeers(): void {
    if (!this.transport) return;
    for (const [id, addr] of this.peers.all())
      if (id !== this.config.node_name) this.transport.setPeer(id, `${this.scheme}://${addr}`);
  }

  private async listen(log: Logger, _runnerToken: string): Promise<void> {
    const { config: c, deps } = this;
    const app = new Hono();
    const service = new ControlService({
      state: this.db,
      consensus: this.consensus,
      dispatcher: this.dispatcher,
      hub: this.hub,
      clock: deps.clock,
      peers: this.peers,
      node: {
        name: c.node_name,
        version: VERSION,
        get advertise() {
          return self.advertise;
        },
        get tags() {
          return nodeTags(c, self.advertise);
        },
      },
      leave: () => void this.membership?.leave(),
      cluster: {
        conf: () => this.raft!.conf(),
        match: (id) => this.raft!.raftStatus().progress?.[id]?.match,
        reachable: (id) => this.transport?.reachable(id) ?? false,
      },
    });
    const self = this;
    const controlToken = c.control_token || c.cluster_secret;
    const controlApp = createControlApp({ service, logger: log, secret: controlToken });
    // The edge calls its own node's service in-process; NOT_LEADER is followed to the leader over HTTP.
    const edge = createEdgeApp({
      control: createLocalControlClient({
        service,
        fetch: (input, init) => fetch(input, init),
        ...(controlToken ? { secret: controlToken } : {}),
      }),
      nodeName: () => c.node_name,
      version: VERSION,
      logger: log,
      bodyText: incomingBodyText,
    });
    if (this.joinable) {
      app.route(
        "/",
        clusterRoutes({
          self: () => this.hello(),
          consensus: () => (this.raftStarted ? this.raft : undefined),
          peers: this.peers,
          secret: c.cluster_secret,
          logger: log,
          clock: deps.clock,
          recordPeer: async (id, addr) => {
            this.peers.learn(id, addr);
            this.syncPeers();
            const r = await this.consensus.propose({ type: "peer.set", at: deps.clock.now(), id, addr });
            if (!r.ok) throw new Error(r.error.message);
          },
          removePeer: async (id) => {
            await this.consensus.propose({ type: "peer.remove", at: deps.clock.now(), id });
          },
        }),
      );
    }
    app.route("/", controlApp);
    app.route("/", edge);
    // Unknown paths get the edge's JSON 404 (a mounted app's notFound does not reach the outer app).
    app.notFound(edgeNotFound);
    this.server = (
      c.tls_cert_file && c.tls_key_file
        ? createAdaptorServer({
            fetch: app.fetch,
            createServer: createHttpsServer,
            serverOptions: { cert: readFileSync(c.tls_cert_file), key: readFileSync(c.tls_key_file) },
          })
        : createAdaptorServer({ fetch: app.fetch })
    ) as Server;
    this.server.keepAliveTimeout = 65_000;
    this.server.on("upgrade", (req, socket, head) => {
      if (this.raftStreams?.handleUpgrade(req, socket, head)) return;
      if (!this.hub.handleUpgrade(req, socket, head)) socket.destroy();
    });
    const [host, port] = splitHostPort(c.http_addr);
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => resolve());
    });
    const bound = this.server.address() as AddressInfo;
    this.address = `${host}:${bound.port}`;
    this.advertise = c.advertise_addr ?? this.address.replace(/^0\.0\.0\.0:/, "127.0.0.1:");
  }

  private hello(): Hello {
    const st = this.consensus.status();
    return {
      id: this.config.node_name,
      addr: this.advertise,
      bootstrapExpect: this.config.bootstrap_expect,
      started: this.raftStarted,
      leader: st.leader,
      peers: Object.fromEntries(this.peers.all()),
    };
  }

  /** Resolves once the node has stopped (SIGTERM, or POST /v1/leave). */
  whenStopped(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (this.state === "stopped" ? resolve() : setTimeout(check, 100));
      check();
    });
  }

  /**
   * Graceful stop: scheduling stops at once, running executions get `shutdown_grace` to finish
   * and report, then the server, consensus and database close.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      if (this.state !== "running") return;
      this.state = "stopping";
      const log = this.deps.logger;
      log.info("stopping: no new runs; waiting for running executions", {
        graceMs: this.config.shutdown_grace,
      });
      this.scheduler.stop();
      await this.runner?.stop(this.config.shutdown_grace);
      // Let the last results commit before the log closes.
      await new Promise((r) => setTimeout(r, 50));
      this.dispatcher.stopLeading();
      this.hub.stop();
      // Upgraded sockets count as the server's connections: close peers' Raft streams or close() waits.
      this.raftStreams?.close();
      await new Promise<void>((r) => {
        this.server.close(() => r());
        this.server.closeAllConnections?.();
      });
      await this.consensus.stop();
      await this.transport?.close();
      this.raftLog?.close();
      this.db.close();
      this.state = "stopped";
      log.info("stopped");
    })();
    return this.stopping;
  }
}

function splitHostPort(addr: string): [string, number] {
  const i = addr.lastIndexOf(":");
  return [addr.slice(0, i).replace(/^\[|\]$/g, ""), Number(addr.slice(i + 1))];
}
