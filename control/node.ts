import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createAdaptorServer } from "@hono/node-server";
import { Hono } from "hono";
import { createApp as createEdgeApp } from "../edge/app";
import { notFound as edgeNotFound } from "../edge/middleware/errors";
import { RunnerAgent } from "../runner/agent";
import { createExecutors } from "../runner/executors";
import type { Clock } from "../shared/clock";
import type { Logger } from "../shared/logger";
import { clusterRoutes, type Hello } from "./cluster/cluster-routes";
import {
  type DiscoveryOptions,
  discover,
  membershipAtLeader,
  requestJoin,
  requestRemove,
  transferTarget,
} from "./cluster/discovery";
import { PeerBook } from "./cluster/peer-book";
import { RaftConsensus } from "./cluster/raft-consensus";
import { RaftStreamServer } from "./cluster/raft-stream-server";
import { StreamRaftTransport } from "./cluster/raft-transport";
import { type AgentConfig, VERSION } from "./config";
import { adoptCommandLog } from "./consensus/adopt-command-log";
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

/** Raft timing per profile: ms per tick; election timeout is 10 ticks, randomised up to 20. */
const TICK_MS = { default: 100, fast: 30 } as const;
/** How long leaving may take before the node stops anyway (and says it may still be a member). */
const LEAVE_TIMEOUT_MS = 30_000;
/** Election timeouts (at their longest) a restarted node waits to hear from a leader before it acts. */
const LEADERLESS_TIMEOUTS = 4;

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
  private stopping: Promise<void> | undefined;
  private raftStarted = false;
  private leaving = false;
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
      this.transport = new StreamRaftTransport({ self: c.node_name, secret: c.cluster_secret, logger: log });
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

    if (this.clustered) await this.enterCluster(log);
    else await this.startAlone(log);
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

  private syncPeers(): void {
    if (!this.transport) return;
    for (const [id, addr] of this.peers.all())
      if (id !== this.config.node_name) this.transport.setPeer(id, `${this.scheme}://${addr}`);
  }

  /**
   * A node on its own: a one-voter Raft group that elects itself at once (no election timeout to wait
   * out). A data dir from the one-node command log is adopted first. With a cluster secret, other
   * nodes can later --join it; it stays the leader while they catch up as learners.
   */
  private async startAlone(log: Logger): Promise<void> {
    const c = this.config;
    this.peers.learn(c.node_name, this.advertise);
    const stored = this.raftLog!.load();
    const fresh = stored.hardState.term === 0 && stored.entries.length === 0 && !stored.snapshot;
    if (fresh) adoptCommandLog(this.db, this.raftLog!, c.node_name, log);
    this.syncPeers();
    const elected = new Promise<void>((resolve) => {
      const off = this.raft!.onLeadership((leader) => {
        if (leader) {
          off();
          resolve();
        }
      });
    });
    await this.startRaft(fresh ? [c.node_name] : undefined);
    if (this.joinable) this.stopWhenRemoved(log);
    const { voters } = this.raft!.conf();
    if ((voters.length > 1 || !voters.includes(c.node_name)) && !this.joinable)
      log.warn("this data dir belongs to a cluster; start with --join and --cluster-secret to rejoin it", {
        voters: voters.join(", "),
      });
    if (voters.length === 1 && voters[0] === c.node_name) {
      this.raft!.campaign();
      await elected;
    } else if (this.joinable) {
      // A data dir from a cluster (or from a node that left one): say what to do if no leader shows up.
      void this.rejoinWhenLeaderless(log);
    }
  }

  private async enterCluster(log: Logger): Promise<void> {
    const c = this.config;
    const stored = this.raftLog!.load();
    const fresh = stored.hardState.term === 0 && stored.entries.length === 0 && !stored.snapshot;
    this.peers.learn(c.node_name, this.advertise);
    if (!fresh) {
      this.syncPeers();
      await this.raft!.start();
      this.raftStarted = true;
      this.stopWhenRemoved(log);
      // --join is for nodes without state; one that left or was removed must ask to join again.
      void this.rejoinWhenLeaderless(log);
      return;
    }
    const opts = this.discoveryOptions(log);
    const entry = await discover(opts);
    for (const [id, addr] of entry.peers) this.peers.learn(id, addr);
    this.syncPeers();
    if (entry.mode === "bootstrap") {
      log.info("bootstrapping the cluster", { voters: entry.voters.join(", ") });
      await this.startRaft(entry.voters);
      this.stopWhenRemoved(log);
    } else {
      log.info("joining an existing cluster", { via: c.join.join(", ") });
      await this.startRaft(undefined);
      this.stopWhenRemoved(log);
      await requestJoin(
        opts,
        [...entry.peers.values()].filter((a) => a !== this.advertise),
      );
    }
  }

  private discoveryOptions(log: Logger): DiscoveryOptions & { now: () => number } {
    const c = this.config;
    return {
      self: { id: c.node_name, addr: this.advertise, bootstrapExpect: c.bootstrap_expect },
      join: c.join,
      secret: c.cluster_secret,
      logger: log,
      fetch,
      sleep: (ms: number) => this.sleep(ms),
      now: () => this.deps.clock.now(),
      cancelled: () => this.state === "stopping" || this.state === "stopped",
      scheme: this.scheme,
    };
  }

  /** Whether this node is a voter or learner in the configuration it has applied. */
  private isMember(): boolean {
    const { voters, learners } = this.raft!.conf();
    return voters.includes(this.config.node_name) || learners.includes(this.config.node_name);
  }

  /** The longest election timeout of this node's Raft profile. */
  private get electionTimeoutMs(): number {
    return TICK_MS[this.config.raft_profile] * 20;
  }

  /**
   * A node restarted on a data dir that hears from no leader within a few election timeouts, or that
   * is not in its own stored configuration, most likely left or was removed: nobody sends it anything,
   * and --join is only read by nodes without state. With --join it asks to join again (the leader
   * adds it as a learner and Raft replaces its stale log as it catches up, like any new member's);
   * without, it says how to fix it. A removed node cannot disrupt the cluster meanwhile: it never
   * campaigns once its configuration leaves it out, and while it still thinks it is a voter its
   * pre-votes move no term and members that hear from their leader ignore them (check-quorum lease).
   */
  private async rejoinWhenLeaderless(log: Logger): Promise<void> {
    const c = this.config;
    const member = this.isMember();
    const waitMs = LEADERLESS_TIMEOUTS * this.electionTimeoutMs;
    const hasLeader = () => this.consensus.status().leader !== "";
    const done = () => this.state === "stopping" || this.state === "stopped" || this.leaving;
    if (member && (await this.until(() => hasLeader() || done(), waitMs))) return;
    const why = member
      ? `no leader heard within ${waitMs} ms of starting: this node may have left or been removed from the cluster`
      : "this node is not in the Raft configuration stored in its data dir: it left or was removed from the cluster";
    if (c.join.length === 0) {
      log.warn(`${why}; it will stay out. Restart it with --join <address of a member> to join again`, {
        voters: this.raft!.conf().voters.join(", "),
      });
      return;
    }
    const via = [...new Set([...c.join, ...this.peers.all().values()])].filter((a) => a !== this.advertise);
    log.warn(`${why}; asking to join again through --join (it re-enters as a learner and catches up)`, {
      via: via.join(", "),
    });
    const opts = this.discoveryOptions(log);
    try {
      await requestJoin({ ...opts, cancelled: () => done() || (member && hasLeader()) }, via);
      log.info("asked the leader to add this node again; catching up as a learner");
    } catch (e) {
      if (!done() && !hasLeader()) log.warn("could not ask to join again", { err: String(e) });
    }
  }

  /**
   * A member that applies a configuration without itself was removed (`dkron raft remove-peer`, or a
   * leader removing itself). So may be one that had a leader and has heard from none for a few election
   * timeouts (the commit of its removal may never reach it: the leader stops talking to it). Once the
   * leader confirms it is out (a node catching up replays old removals of its id, and a partitioned
   * member hears from no leader either), it says so and stops, as after leave, instead of lingering as
   * a follower of nobody.
   */
  private stopWhenRemoved(log: Logger): void {
    const self = this.config.node_name;
    const ended = () => this.state === "stopping" || this.state === "stopped" || this.leaving;
    let member = this.isMember();
    let checking = false;
    const confirm = async (suspect: () => boolean) => {
      checking = true;
      try {
        while (!ended() && suspect()) {
          const peers = [...this.peers.all()].filter(([id]) => id !== self).map(([, a]) => a);
          const at = await membershipAtLeader(this.discoveryOptions(log), peers);
          if (at === "member" || ended()) return;
          if (at === "removed") {
            log.warn(
              "this node was removed from the cluster's Raft configuration; stopping (restart it with --join to join again)",
            );
            await this.stop();
            return;
          }
          await this.sleep(this.electionTimeoutMs);
        }
      } finally {
        checking = false;
      }
    };
    this.raft!.onConf(() => {
      if (this.isMember()) member = true;
      else if (member && !checking && !ended()) {
        member = false;
        void confirm(() => !this.isMember());
      }
    });
    const waitMs = LEADERLESS_TIMEOUTS * this.electionTimeoutMs;
    const leaderless = () => this.consensus.status().leader === "";
    let hadLeader = false;
    let since: number | undefined;
    const watch = () => {
      if (this.state === "stopping" || this.state === "stopped") return;
      const now = this.deps.clock.now();
      if (!leaderless()) {
        hadLeader = true;
        since = undefined;
      } else if (hadLeader && !checking && !ended()) {
        since ??= now;
        if (now - since >= waitMs) {
          since = undefined;
          void confirm(leaderless);
        }
      }
      this.deps.clock.setTimeout(watch, this.electionTimeoutMs);
    };
    watch();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((r) => this.deps.clock.setTimeout(r, ms));
  }

  /** Polls `done` until it holds (true) or `ms` pass (false). */
  private async until(done: () => boolean, ms: number): Promise<boolean> {
    const deadline = this.deps.clock.now() + ms;
    while (!done()) {
      if (this.deps.clock.now() >= deadline) return false;
      await this.sleep(20);
    }
    return true;
  }

  private async startRaft(bootstrap: string[] | undefined): Promise<void> {
    await this.raft!.start(bootstrap);
    this.raftStarted = true;
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
      leave: () => void this.leave(),
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

  /**
   * POST /v1/leave (answered before this runs): leaves the Raft configuration, then stops. Stops only
   * once this node is out of the configuration, or after LEAVE_TIMEOUT_MS with an error saying it may
   * still be a member and how to remove it.
   */
  private async leave(): Promise<void> {
    if (this.leaving || this.state !== "running") return;
    this.leaving = true;
    const log = this.deps.logger.child({ node: this.config.node_name });
    if (this.raft && this.raftStarted && this.joinable) {
      try {
        const left = await this.leaveConfiguration(log);
        if (left) log.info("left the raft configuration; stopping");
        else
          log.error(
            "could not leave the raft configuration in time; stopping anyway. It may still count as a voter: remove it with dkron raft remove-peer",
            { peer: this.config.node_name, waitedMs: LEAVE_TIMEOUT_MS },
          );
      } catch (e) {
        log.error("could not leave the raft configuration; stopping anyway", { err: String(e) });
      }
    }
    await this.stop();
  }

  /**
   * The leader hands leadership to a live, caught-up voter and waits for it to move; if none can take
   * it, the leader removes itself with a membership change (it steps down once that applies). A
   * follower asks the leader to remove it and checks the answer. True once out of the configuration.
   */
  private async leaveConfiguration(log: Logger): Promise<boolean> {
    const raft = this.raft!;
    const self = this.config.node_name;
    const clock = this.deps.clock;
    const deadline = clock.now() + LEAVE_TIMEOUT_MS;
    const { voters, learners } = raft.conf();
    if (!this.isMember()) return true;
    if ([...voters, ...learners].every((id) => id === self)) {
      log.info("leaving: this node is the only member; nothing to hand over");
      return true;
    }
    const tried = new Set<string>();
    while (clock.now() < deadline) {
      if (!this.isMember()) return true;
      if (raft.isLeader()) {
        const to = transferTarget(
          raft.raftStatus(),
          self,
          (id) => !tried.has(id) && (this.transport?.reachable(id) ?? false),
        );
        if (to) {
          tried.add(to);
          log.info("leaving: handing leadership to a live, caught-up voter", { to });
          // The core abandons a transfer after one election timeout.
          const moved =
            raft.transferLeadership(to) && (await this.until(() => !raft.isLeader(), this.electionTimeoutMs));
          if (moved) continue;
          log.warn("leaving: leadership did not move; trying another voter", { to });
          continue;
        }
        try {
          raft.changeMembership({ type: "remove", node: self });
          log.info("leaving: no live, caught-up voter to take over; the leader removes itself");
          await this.until(() => !this.isMember() || !raft.isLeader(), 5 * this.electionTimeoutMs);
        } catch (e) {
          // CONFLICT: a membership change is still being applied (or a transfer runs); try again.
          log.debug("leaving: membership change not accepted yet", { err: String(e) });
          await this.sleep(100);
        }
        continue;
      }
      const out = await requestRemove(
        { ...this.discoveryOptions(log), cancelled: () => raft.isLeader() },
        () => {
          const leader = raft.status().leader;
          return leader && leader !== self ? this.peers.get(leader) : undefined;
        },
        deadline,
      );
      if (out.removed) {
        // The leader applied it; this node applies it when the commit reaches it (if it does).
        await this.until(() => !this.isMember(), 2 * this.electionTimeoutMs);
        return true;
      }
      if (out.reason === "deadline") {
        log.warn("leaving: the leader did not confirm the removal", { err: out.lastError });
        return false;
      }
    }
    return !this.isMember();
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
