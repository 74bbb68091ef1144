import type { Clock, Logger } from "../shared";
import { splitHostPort } from "../shared";
import { type GossipState, localAddressToward, PoolMember } from "./gossip";
import { type GossipPlan, runnerMeta } from "./gossip-settings";

/** What `dkron-runner status` shows of the gossip member. */
export interface RunnerGossipStatus {
  /** "host:port" the pool reaches this runner at ("" before the socket is bound). */
  addr: string;
  state: GossipState | "off";
  encrypted: boolean;
  /** Members this runner knows, by gossip state (itself included). */
  members: { alive: number; suspect: number; dead: number; left: number };
  /** Control nodes it knows alive: 0 means it has not reached the pool yet. */
  control_nodes: number;
  /** The addresses it joined through. */
  join: string[];
}

/** Options of a runner's gossip member. */
export interface RunnerGossipOptions {
  name: string;
  version: string;
  tags: Record<string, string>;
  plan: GossipPlan;
  /** The control nodes' gossip addresses saved so far (a changed list is saved again). */
  seeds: string[];
  /** The control URL's host: a wildcard bind advertises the address this host reaches it from. */
  controlHost: string;
  clock: Clock;
  logger: Logger;
  /** Saves the control nodes' gossip addresses learned from a welcome (the data dir's gossip.json). */
  saveSeeds: (seeds: string[]) => void;
}

/**
 * A runner's member of the gossip pool: a PoolMember with the runner's meta, joined through the
 * plan's addresses, and re-joined through the control nodes' addresses each welcome carries while
 * it knows no control node (it was started before any control node was reachable, or the
 * addresses it saved are stale).
 */
export class RunnerGossip {
  private readonly pool: PoolMember;
  private joinedVia: string[];
  private seeds: string[];

  constructor(private readonly o: RunnerGossipOptions) {
    this.joinedVia = [...o.plan.join];
    this.seeds = [...o.seeds];
    this.pool = new PoolMember({
      name: o.name,
      bind: o.plan.bind,
      bindExplicit: o.plan.bindExplicit,
      join: o.plan.join,
      keys: o.plan.keys,
      clock: o.clock,
      logger: o.logger,
    });
  }

  /** The pool member itself (what a keyring rotation re-keys). */
  get member(): PoolMember {
    return this.pool;
  }

  /** Binds the socket (falling back to a free port when the default one is taken) and joins. */
  async start(): Promise<void> {
    const { meta, dropped } = runnerMeta(this.o.version, this.o.tags);
    if (dropped.length)
      this.o.logger.warn("tags left out of the gossip meta (512 bytes); jobs still target them", { dropped });
    const adv = this.o.plan.advertise;
    const [bindHost] = splitHostPort(this.o.plan.bind);
    const wildcard = bindHost === "0.0.0.0" || bindHost === "::" || bindHost === "";
    const advertiseHost = adv
      ? splitHostPort(adv)[0]
      : wildcard
        ? await localAddressToward(this.o.controlHost, 7946)
        : undefined;
    await this.pool.start(meta, advertiseHost);
    const requested = splitHostPort(this.o.plan.bind)[1];
    const bound = splitHostPort(this.pool.address)[1];
    this.o.logger.info("gossip bound", {
      addr: this.pool.address,
      bind: this.o.plan.bind,
      // A taken default port falls back to a free one; say so, since peers must be told the port.
      port: requested === 0 || requested === bound ? "as asked" : "free port (default was taken)",
      encrypted: this.o.plan.keys.length > 0,
      join: this.o.plan.join,
    });
  }

  /**
   * The control nodes' gossip addresses a welcome carried: saved when they changed, and joined
   * through when this runner knows no live control node.
   */
  learn(seeds: readonly string[] | undefined): void {
    if (!seeds?.length) return;
    const sorted = [...seeds].sort();
    if (sorted.join(",") !== [...this.seeds].sort().join(",")) {
      this.seeds = sorted;
      this.o.saveSeeds(sorted);
    }
    if (this.status().control_nodes === 0 && this.pool.shell?.state === "running") {
      this.o.logger.info("joining the gossip pool through the control nodes the leader named", {
        join: sorted,
      });
      this.joinedVia = sorted;
      this.pool.shell.join(sorted);
    }
  }

  /** Leaves gracefully (the pool lists this runner `left`), then closes the socket. */
  leave(): Promise<void> {
    return this.pool.leave();
  }

  /** Where the member is and what it knows. */
  status(): RunnerGossipStatus {
    const members = { alive: 0, suspect: 0, dead: 0, left: 0 };
    let controls = 0;
    for (const m of this.pool.members()) {
      members[m.status]++;
      if (m.meta.role === "control" && m.status !== "dead" && m.status !== "left") controls++;
    }
    return {
      addr: this.pool.address,
      state: this.pool.shell?.state ?? "off",
      encrypted: this.pool.keyring !== undefined,
      members,
      control_nodes: controls,
      join: this.joinedVia,
    };
  }
}
