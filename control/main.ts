import { spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { join } from "node:path";
import { Hono } from "hono";
import WebSocket from "ws";
import { createApp as createEdgeApp, notFound as edgeNotFound } from "../edge";
import {
  createExecutors,
  generateGossipKey,
  keyFingerprint,
  PoolMember,
  RunnerAgent,
  toDkronMember,
} from "../runner";
import {
  type Clock,
  controlGossipSeeds,
  createLogger,
  type Logger,
  splitHostPort,
  systemClock,
} from "../shared";
import {
  ADMIN_TOKEN_FILE,
  Authenticator,
  bootstrapAdminToken,
  TokenUseFlusher,
  verifyRunnerCredential,
} from "./auth";
import {
  ClusterMembership,
  PeerBook,
  RaftStreamServer,
  replicateLearnedPeers,
  StreamRaftTransport,
  syncPeers,
} from "./cluster";
import { type AgentConfig, VERSION } from "./config";
import { eventsOf, RaftConsensus } from "./consensus";
import { Dispatcher } from "./dispatch";
import {
  ControlServer,
  ControlService,
  clusterRoutes,
  createControlApp,
  createLocalControlClient,
  incomingBodyText,
  incomingClientAddress,
} from "./http";
import { RUNNER_WS_PATH, RunnerHub, RunnerSessions } from "./hub";
import { followLeadership } from "./leadership";
import { ControlNode } from "./node";
import { nodeTags } from "./node-tags";
import { seededRandom } from "./raft";
import { Scheduler } from "./scheduler";
import { getGossipKeyring, openStateDb, SqliteLogStore, StateSnapshotWriter } from "./store";

// The composition root: the one place that builds the real outside world and every part of a
// control node, wires them to each other, and hands the result to ControlNode (which only starts
// and stops them). It alone imports the edge app and the runner.

/** The outside world a control node runs against. */
export interface World {
  clock: Clock;
  logger: Logger;
  random: () => number;
  /** Random secret generator (the runner token when none is configured). */
  secret: () => string;
  /** Reaches other control nodes (NOT_LEADER followed to the leader). */
  fetch: typeof fetch;
  /** Starts the local runner's shell jobs. */
  spawn: typeof spawn;
  /** Shows an operator something once, outside the log (the first admin token): stderr. */
  announce: (text: string) => void;
}

/** The real world: system clock, Math.random, crypto secrets, global fetch, node's spawn, a JSON logger on stdout. */
export function realWorld(config: Pick<AgentConfig, "log_level">): World {
  return {
    clock: systemClock,
    logger: createLogger({ level: config.log_level, write: (l) => process.stdout.write(`${l}\n`) }),
    random: Math.random,
    secret: () => randomBytes(24).toString("base64url"),
    fetch: (input, init) => fetch(input, init),
    spawn,
    announce: (text) => process.stderr.write(`${text}\n`),
  };
}

/** The real client WebSocket (ws), for the Raft transport and the local runner. */
const openWebSocket = (url: string, options: WebSocket.ClientOptions) => new WebSocket(url, options);

/** A fresh gossip key for `dkron keygen` (the CLI reaches the runner library through this root). */
export const newGossipKey: () => string = generateGossipKey;

/** The gossip pool's UDP port when --gossip-bind is not given (Serf's, as Dkron uses). */
const GOSSIP_PORT = 8946;

/** Raft timing per profile: ms per tick; election timeout is 10 ticks, randomised up to 20. */
const TICK_MS = { default: 100, fast: 30 } as const;

/**
 * Builds a control node from a resolved config: state database, Raft (a one-voter group when alone),
 * scheduler, dispatcher, runner hub, the HTTP server (edge /v1 app + control-api + Raft RPC + runner
 * WebSocket) and, by default, a local runner that connects over the protocol a remote one uses.
 */
export function createControlNode(c: AgentConfig, world: World): ControlNode {
  const log = world.logger.child({ node: c.node_name });
  const scheme = c.tls_cert_file && c.tls_key_file ? "https" : "http";
  const clustered = c.bootstrap_expect > 1 || c.join.length > 0;
  // A single node with a cluster secret takes Raft streams and joins too, so it can grow into a cluster.
  const joinable = clustered || c.cluster_secret !== "";
  const tickMs = TICK_MS[c.raft_profile];

  // raft.db (FULL) is the durable record and state.db its replay (see StateDbOptions); a single
  // node is a one-voter Raft group, so the same holds there.
  const db = openStateDb(join(c.data_dir, "state.db"), { synchronous: "NORMAL" });
  const raftLog = SqliteLogStore.open(join(c.data_dir, "raft.db"));
  const snapshotWriter = raftLog.snapshotDir
    ? new StateSnapshotWriter(join(c.data_dir, "state.db"), raftLog.snapshotDir)
    : undefined;
  const peers = new PeerBook(db, scheme);

  // Config refuses a cluster beyond loopback without a secret; on loopback it runs, loudly.
  if (joinable && !c.cluster_secret)
    log.warn(
      "NO --cluster-secret: Raft RPC between control nodes is NOT authenticated; any process on this host can join or rewrite the cluster. Fine for a local test cluster; set --cluster-secret on every node before anything else",
    );
  const transport = joinable
    ? new StreamRaftTransport({
        self: c.node_name,
        secret: c.cluster_secret,
        logger: log,
        clock: world.clock,
        webSocket: openWebSocket,
      })
    : undefined;
  const raft = new RaftConsensus({
    id: c.node_name,
    state: db,
    log: raftLog,
    send: (m) => transport?.send(m),
    clock: world.clock,
    logger: log,
    random: seededRandom(Math.floor(world.random() * 2 ** 32)),
    tickMs,
    tunables: { electionTicks: 10, heartbeatTicks: 1, snapshotThreshold: c.raft_snapshot_threshold },
    ...(snapshotWriter
      ? {
          snapshots: {
            take: () => snapshotWriter.take(),
            discard: (f: string) => raftLog.discardSnapshotFile(f),
            read: (f: string) => raftLog.readSnapshotFile(f),
          },
        }
      : {}),
  });
  const raftStreams = joinable
    ? new RaftStreamServer({
        secret: c.cluster_secret,
        logger: log,
        receive: (msgs) => {
          if (!membership.raftStarted) return false;
          raft.receive(msgs);
          return true;
        },
      })
    : undefined;
  const resyncPeers = () => syncPeers(peers, transport, c.node_name, scheme);
  const membership = new ClusterMembership({
    config: c,
    raft,
    raftLog,
    db,
    peers,
    transport,
    clock: world.clock,
    logger: log,
    fetch: world.fetch,
    tickMs,
    joinable,
    advertise: () => node.advertise,
    scheme: () => scheme,
    nodeState: () => node.phase,
    syncPeers: resyncPeers,
    stop: () => node.stop(),
  });

  // Runners never hold the cluster secret: without --runner-token, nodes of one cluster agree on a
  // runner token derived from it (one-way), and a lone node makes a random one.
  const runnerToken =
    c.runner_token ||
    (c.cluster_secret
      ? createHmac("sha256", c.cluster_secret).update("dkron runner token").digest("base64url")
      : world.secret());
  const sessions = new RunnerSessions<WebSocket>();
  const dispatcher = new Dispatcher(
    { consensus: raft, state: db, runners: sessions, clock: world.clock, logger: log, random: world.random },
    { retain: c.execution_retention, leaseMs: c.lease_timeout },
  );
  const hub = new RunnerHub({
    sessions,
    events: dispatcher,
    clock: world.clock,
    logger: log,
    token: runnerToken,
    authenticate: (presented) => verifyRunnerCredential(db, presented),
    heartbeatMs: c.heartbeat,
    nodeName: c.node_name,
    wsScheme: scheme === "https" ? "wss" : "ws",
    keyring: () => getGossipKeyring(db),
    // The pool is built below; the hub asks only once runners connect.
    gossipSeeds: () => controlGossipSeeds(pool.members().map(toDkronMember)),
    // Every control node's API (voters and others the peer book knows, this one first): a runner
    // whose saved node is down reconnects through another, which redirects it here.
    controlUrls: () => peers.urls({ id: c.node_name, addr: node.advertise }),
    settled: () => raft.readBarrier(),
    redirect: () => {
      if (raft.isLeader()) return undefined;
      const leader = raft.status().leader;
      return leader ? (peers.get(leader) ?? null) : null;
    },
  });
  const scheduler = new Scheduler({
    state: db,
    clock: world.clock,
    logger: log,
    dispatcher,
    consensus: raft,
  });
  followLeadership({
    consensus: raft,
    dispatcher,
    scheduler,
    hub,
    runners: sessions,
    localRunner: { reconnectNow: () => node.localRunner?.reconnectNow() },
    onGained: () => {
      replicateLearnedPeers(peers, raft, world.clock, log);
      if (auth.enabled)
        void bootstrapAdminToken({
          state: db,
          consensus: raft,
          secret: world.secret,
          now: () => world.clock.now(),
          dataDir: c.data_dir,
          logger: log,
          announce: world.announce,
        }).catch((e: unknown) => log.warn("first admin token not created yet", { err: String(e) }));
    },
    clock: world.clock,
    runnerSettleMs: c.runner_settle,
  });
  raft.onApplied((entry) => {
    const events = eventsOf(entry);
    if (events.some((e) => e.kind === "peers.changed")) resyncPeers();
    for (const e of events) if (e.kind === "runner.revoked") hub.revoke(e.name);
    if (events.some((e) => e.kind === "keyring.changed")) syncKeyring();
  });
  raft.onConf(resyncPeers);
  // A snapshot from the leader may carry a newer keyring; it announces itself as a conf change.
  raft.onConf(() => syncKeyring());

  // One gossip pool with the runners: membership, tags and liveness for /v1/members.
  const gossipDefault = `${splitHostPort(c.http_addr)[0] || "0.0.0.0"}:${GOSSIP_PORT}`;
  const pool = new PoolMember({
    name: c.node_name,
    bind: c.gossip_bind || gossipDefault,
    bindExplicit: c.gossip_bind !== "",
    join: c.gossip_join,
    // Once the cluster has rotated, its replicated keyring wins over --encrypt (which may name a removed key).
    keys: getGossipKeyring(db) ?? c.encrypt,
    clock: world.clock,
    logger: log,
  });
  let sentKeys = (getGossipKeyring(db) ?? []).join();
  /** Re-keys this node's gossip member from the replicated keyring and tells the runners connected here. */
  const syncKeyring = () => {
    const keys = getGossipKeyring(db);
    if (!keys || keys.join() === sentKeys) return;
    sentKeys = keys.join();
    pool.setKeys(keys);
    for (const s of sessions.sessions()) sessions.send(s.name, { type: "keyring", keys });
  };
  const gossip = {
    start: (advertise: string) => {
      const tags = nodeTags(c, advertise);
      return pool.start(
        {
          role: "control" as const,
          version: VERSION,
          // The tags jobs target (the Dkron 1.x duplicates and `version` stay out: meta is 512 bytes).
          tags: Object.fromEntries(
            Object.entries(tags).filter(([k]) => !k.startsWith("dkron_") && k !== "version"),
          ),
        },
        splitHostPort(advertise)[0],
      );
    },
    leave: () => pool.leave(),
    stop: () => pool.stop(),
  };

  const auth = new Authenticator({
    state: db,
    clock: world.clock,
    mode: c.insecure_no_auth ? "off" : "tokens",
    // Generic on purpose: a 401 goes to anyone, and the data dir's path is the operator's business.
    hint: `the first start wrote an admin token to <data-dir>/${ADMIN_TOKEN_FILE}`,
  });
  if (c.insecure_no_auth)
    log.warn(
      "--insecure-no-auth: the API accepts every request without a token, as admin. Local development only",
    );
  const service = new ControlService({
    auth,
    secret: world.secret,
    auditRetentionMs: c.audit_retention,
    logger: log,
    state: db,
    consensus: raft,
    dispatcher,
    runners: sessions,
    clock: world.clock,
    peers,
    node: {
      name: c.node_name,
      version: VERSION,
      get advertise() {
        return node.advertise;
      },
      get tags() {
        return nodeTags(c, node.advertise);
      },
    },
    leave: () => void membership.leave(),
    gossip: () => pool.members().map(toDkronMember),
    gossipKeys: {
      local: () => pool.keyring?.list().keys ?? [],
      holders: () =>
        pool
          .members()
          .filter((m) => m.status === "alive" || m.status === "suspect")
          .map((m) => ({ name: m.name, keys: m.meta.keys ?? [] })),
      fingerprint: keyFingerprint,
    },
    cluster: {
      conf: () => raft.conf(),
      match: (id) => raft.raftStatus().progress?.[id]?.match,
      reachable: (id) => transport?.reachable(id) ?? false,
    },
  });
  const controlToken = c.control_token || c.cluster_secret;
  const app = new Hono();
  if (joinable) {
    app.route(
      "/",
      clusterRoutes({
        self: () => {
          const st = raft.status();
          return {
            id: c.node_name,
            addr: node.advertise,
            bootstrapExpect: c.bootstrap_expect,
            started: membership.raftStarted,
            leader: st.leader,
            peers: Object.fromEntries(peers.all()),
          };
        },
        consensus: () => (membership.raftStarted ? raft : undefined),
        peers,
        secret: c.cluster_secret,
        logger: log,
        clock: world.clock,
        recordPeer: async (id, addr) => {
          peers.learn(id, addr);
          resyncPeers();
          const r = await raft.propose({ type: "peer.set", at: world.clock.now(), id, addr });
          if (!r.ok) throw new Error(r.error.message);
        },
        removePeer: async (id) => {
          await raft.propose({ type: "peer.remove", at: world.clock.now(), id });
        },
      }),
    );
  }
  app.route(
    "/",
    createControlApp({ service, logger: log, secret: controlToken, peerAddress: incomingClientAddress }),
  );
  // The edge calls its own node's service in-process; NOT_LEADER is followed to the leader over HTTP.
  const localControl = createLocalControlClient({
    service,
    fetch: world.fetch,
    ...(controlToken ? { secret: controlToken } : {}),
  });
  const tokenUses = new TokenUseFlusher({ auth, control: localControl, clock: world.clock, logger: log });
  app.route(
    "/",
    createEdgeApp({
      control: localControl,
      nodeName: () => c.node_name,
      version: VERSION,
      logger: log,
      bodyText: incomingBodyText,
      maxBodyBytes: c.max_body_size,
      clientAddress: incomingClientAddress,
    }),
  );
  // Unknown paths get the edge's JSON 404 (a mounted app's notFound does not reach the outer app).
  app.notFound(edgeNotFound);
  const server = new ControlServer({
    fetch: app.fetch,
    ...(c.tls_cert_file && c.tls_key_file
      ? { tls: { certFile: c.tls_cert_file, keyFile: c.tls_key_file } }
      : {}),
    upgrades: raftStreams ? [raftStreams, hub] : [hub],
  });

  const node = ControlNode.create({
    config: c,
    logger: log,
    clustered,
    server,
    db,
    raftLog,
    snapshotWriter,
    raft,
    transport,
    raftStreams,
    membership,
    hub,
    dispatcher,
    scheduler,
    background: [tokenUses],
    gossip,
    localRunner: c.local_runner
      ? (advertise) =>
          new RunnerAgent({
            url: `${scheme === "https" ? "wss" : "ws"}://${advertise}${RUNNER_WS_PATH}`,
            token: runnerToken,
            name: c.node_name,
            tags: nodeTags(c, advertise),
            executors: createExecutors({ clock: world.clock, spawn: world.spawn }),
            clock: world.clock,
            logger: log.child({ runner: c.node_name }),
            webSocket: openWebSocket,
            random: world.random,
          })
      : undefined,
  });
  return node;
}
