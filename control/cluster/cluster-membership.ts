import type { Clock, Logger } from "../../shared";
import type { AgentConfig } from "../config";
import type { RaftConsensus } from "../consensus";
import { adoptCommandLog } from "../consensus";
import type { SqliteLogStore, StateDb } from "../store";
import {
  type DiscoveryOptions,
  discover,
  membershipAtLeader,
  requestJoin,
  requestRemove,
  transferTarget,
} from "./discovery";
import type { PeerBook } from "./peer-book";
import type { StreamRaftTransport } from "./raft-transport";

/** How long leaving may take before the node stops anyway (and says it may still be a member). */
const LEAVE_TIMEOUT_MS = 30_000;
/** Election timeouts (at their longest) a restarted node waits to hear from a leader before it acts. */
const LEADERLESS_TIMEOUTS = 4;

/** What the membership lifecycle needs from the node that composes it. */
export interface ClusterMembershipDeps {
  config: AgentConfig;
  raft: RaftConsensus;
  raftLog: SqliteLogStore;
  /** The state database (a fresh data dir adopts the one-node command log into it). */
  db: StateDb;
  peers: PeerBook;
  /** Present when the node takes Raft streams from others (see `joinable`). */
  transport: StreamRaftTransport | undefined;
  clock: Clock;
  logger: Logger;
  /** Reaches other control nodes (discovery, join and remove requests). */
  fetch: typeof fetch;
  /** Ms per Raft tick of the node's profile. */
  tickMs: number;
  /** Whether the node takes Raft streams and join requests from others. */
  joinable: boolean;
  /** The address other nodes reach this node at (known once the HTTP server listens). */
  advertise: () => string;
  /** http or https. */
  scheme: () => "http" | "https";
  /** The node's lifecycle state. */
  nodeState: () => "created" | "starting" | "running" | "stopping" | "stopped";
  /** Points the transport at every known peer. */
  syncPeers: () => void;
  /** Stops the node (after leave, or once removed from the configuration). */
  stop: () => Promise<void>;
}

/**
 * How a control node enters, stays in and leaves the cluster's Raft configuration: it starts Raft
 * alone or through discovery, asks to join again when it finds itself out, stops once removed, and
 * leaves on request.
 */
export class ClusterMembership {
  private started = false;
  private leaving = false;

  constructor(private readonly deps: ClusterMembershipDeps) {}

  /** Whether Raft has started (before that, Raft messages and join requests are refused). */
  get raftStarted(): boolean {
    return this.started;
  }

  /**
   * A node on its own: a one-voter Raft group that elects itself at once (no election timeout to wait
   * out). A data dir from the one-node command log is adopted first. With a cluster secret, other
   * nodes can later --join it; it stays the leader while they catch up as learners.
   */
  async startAlone(): Promise<void> {
    const log = this.deps.logger;
    const c = this.deps.config;
    this.deps.peers.learn(c.node_name, this.deps.advertise());
    const stored = this.deps.raftLog.load();
    const fresh = stored.hardState.term === 0 && stored.entries.length === 0 && !stored.snapshot;
    if (fresh) adoptCommandLog(this.deps.db, this.deps.raftLog, c.node_name, log);
    this.deps.syncPeers();
    const elected = new Promise<void>((resolve) => {
      const off = this.deps.raft.onLeadership((leader) => {
        if (leader) {
          off();
          resolve();
        }
      });
    });
    await this.startRaft(fresh ? [c.node_name] : undefined);
    if (this.deps.joinable) this.stopWhenRemoved(log);
    const { voters } = this.deps.raft.conf();
    if ((voters.length > 1 || !voters.includes(c.node_name)) && !this.deps.joinable)
      log.warn("this data dir belongs to a cluster; start with --join and --cluster-secret to rejoin it", {
        voters: voters.join(", "),
      });
    if (voters.length === 1 && voters[0] === c.node_name) {
      this.deps.raft.campaign();
      await elected;
    } else if (this.deps.joinable) {
      // A data dir from a cluster (or from a node that left one): say what to do if no leader shows up.
      void this.rejoinWhenLeaderless(log);
    }
  }

  /** Starts Raft in a cluster: from the stored state, or by bootstrapping or joining through discovery. */
  async enterCluster(): Promise<void> {
    const log = this.deps.logger;
    const c = this.deps.config;
    const stored = this.deps.raftLog.load();
    const fresh = stored.hardState.term === 0 && stored.entries.length === 0 && !stored.snapshot;
    this.deps.peers.learn(c.node_name, this.deps.advertise());
    if (!fresh) {
      this.deps.syncPeers();
      await this.deps.raft.start();
      this.started = true;
      this.stopWhenRemoved(log);
      // --join is for nodes without state; one that left or was removed must ask to join again.
      void this.rejoinWhenLeaderless(log);
      return;
    }
    const opts = this.discoveryOptions(log);
    const entry = await discover(opts);
    for (const [id, addr] of entry.peers) this.deps.peers.learn(id, addr);
    this.deps.syncPeers();
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
        [...entry.peers.values()].filter((a) => a !== this.deps.advertise()),
      );
    }
  }

  private discoveryOptions(log: Logger): DiscoveryOptions & { now: () => number } {
    const c = this.deps.config;
    return {
      self: { id: c.node_name, addr: this.deps.advertise(), bootstrapExpect: c.bootstrap_expect },
      join: c.join,
      secret: c.cluster_secret,
      logger: log,
      fetch: this.deps.fetch,
      sleep: (ms: number) => this.sleep(ms),
      now: () => this.deps.clock.now(),
      cancelled: () => this.deps.nodeState() === "stopping" || this.deps.nodeState() === "stopped",
      scheme: this.deps.scheme(),
    };
  }

  /** Whether this node is a voter or learner in the configuration it has applied. */
  private isMember(): boolean {
    const { voters, learners } = this.deps.raft.conf();
    return voters.includes(this.deps.config.node_name) || learners.includes(this.deps.config.node_name);
  }

  /** The longest election timeout of this node's Raft profile. */
  private get electionTimeoutMs(): number {
    return this.deps.tickMs * 20;
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
    const c = this.deps.config;
    const member = this.isMember();
    const waitMs = LEADERLESS_TIMEOUTS * this.electionTimeoutMs;
    const hasLeader = () => this.deps.raft.status().leader !== "";
    const done = () =>
      this.deps.nodeState() === "stopping" || this.deps.nodeState() === "stopped" || this.leaving;
    if (member && (await this.until(() => hasLeader() || done(), waitMs))) return;
    const why = member
      ? `no leader heard within ${waitMs} ms of starting: this node may have left or been removed from the cluster`
      : "this node is not in the Raft configuration stored in its data dir: it left or was removed from the cluster";
    if (c.join.length === 0) {
      log.warn(`${why}; it will stay out. Restart it with --join <address of a member> to join again`, {
        voters: this.deps.raft.conf().voters.join(", "),
      });
      return;
    }
    const via = [...new Set([...c.join, ...this.deps.peers.all().values()])].filter(
      (a) => a !== this.deps.advertise(),
    );
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
    const self = this.deps.config.node_name;
    const ended = () =>
      this.deps.nodeState() === "stopping" || this.deps.nodeState() === "stopped" || this.leaving;
    let member = this.isMember();
    let checking = false;
    const confirm = async (suspect: () => boolean) => {
      checking = true;
      try {
        while (!ended() && suspect()) {
          const peers = [...this.deps.peers.all()].filter(([id]) => id !== self).map(([, a]) => a);
          const at = await membershipAtLeader(this.discoveryOptions(log), peers);
          if (at === "member" || ended()) return;
          if (at === "removed") {
            log.warn(
              "this node was removed from the cluster's Raft configuration; stopping (restart it with --join to join again)",
            );
            await this.deps.stop();
            return;
          }
          await this.sleep(this.electionTimeoutMs);
        }
      } finally {
        checking = false;
      }
    };
    this.deps.raft.onConf(() => {
      if (this.isMember()) member = true;
      else if (member && !checking && !ended()) {
        member = false;
        void confirm(() => !this.isMember());
      }
    });
    const waitMs = LEADERLESS_TIMEOUTS * this.electionTimeoutMs;
    const leaderless = () => this.deps.raft.status().leader === "";
    let hadLeader = false;
    let since: number | undefined;
    const watch = () => {
      if (this.deps.nodeState() === "stopping" || this.deps.nodeState() === "stopped") return;
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
    await this.deps.raft.start(bootstrap);
    this.started = true;
  }

  /**
   * POST /v1/leave (answered before this runs): leaves the Raft configuration, then stops. Stops only
   * once this node is out of the configuration, or after LEAVE_TIMEOUT_MS with an error saying it may
   * still be a member and how to remove it.
   */
  async leave(): Promise<void> {
    if (this.leaving || this.deps.nodeState() !== "running") return;
    this.leaving = true;
    const log = this.deps.logger;
    if (this.started && this.deps.joinable) {
      try {
        const left = await this.leaveConfiguration(log);
        if (left) log.info("left the raft configuration; stopping");
        else
          log.error(
            "could not leave the raft configuration in time; stopping anyway. It may still count as a voter: remove it with dkron raft remove-peer",
            { peer: this.deps.config.node_name, waitedMs: LEAVE_TIMEOUT_MS },
          );
      } catch (e) {
        log.error("could not leave the raft configuration; stopping anyway", { err: String(e) });
      }
    }
    await this.deps.stop();
  }

  /**
   * The leader hands leadership to a live, caught-up voter and waits for it to move; if none can take
   * it, the leader removes itself with a membership change (it steps down once that applies). A
   * follower asks the leader to remove it and checks the answer. True once out of the configuration.
   */
  private async leaveConfiguration(log: Logger): Promise<boolean> {
    const raft = this.deps.raft;
    const self = this.deps.config.node_name;
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
          (id) => !tried.has(id) && (this.deps.transport?.reachable(id) ?? false),
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
          return leader && leader !== self ? this.deps.peers.get(leader) : undefined;
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
}
