import { randomInt } from "node:crypto";
import type { Clock, Logger, TimerHandle } from "../../shared";
import type { GossipConfigInput } from "./config";
import { ENCRYPTION_OVERHEAD, type Keyring } from "./keyring";
import { type MemberEvent, Membership, type MemberView, type Step } from "./membership";
import { decodePacket, encodePacket, type MemberMeta } from "./messages";
import { type Random, seededRandom } from "./random";
import type { DatagramTransport } from "./udp-transport";

/** What the Gossip shell is given: time, randomness, a socket, and optionally a keyring. */
export interface GossipDeps {
  clock: Clock;
  random: Random;
  transport: DatagramTransport;
  /** Encrypts and authenticates every datagram when present (`--encrypt KEY`). */
  keyring?: Keyring;
  logger?: Logger;
}

/** Who this member is and how it finds the pool. */
export interface GossipOptions {
  name: string;
  /** The address others reach this member at (default: the socket's bound address). */
  advertise?: { addr: string; port: number };
  meta: MemberMeta;
  /** "host:port" of any members; one that answers is enough to learn the rest. */
  join?: string[];
  config?: GossipConfigInput;
}

/** Lifecycle of a Gossip member. */
export type GossipState = "created" | "running" | "left" | "stopped";

/** Counters of what the shell dropped (they say a key or a version is wrong somewhere). */
export interface GossipCounters {
  sent: number;
  received: number;
  /** Datagrams no installed key opened. */
  undecryptable: number;
  /** Datagrams that were not a gossip packet of our version. */
  malformed: number;
}

/** A random source for the real shell, seeded from node:crypto (entry files build it). */
export function cryptoSeededRandom(): Random {
  return seededRandom(randomInt(2 ** 32));
}

/**
 * One gossip member on a real socket: the thin shell around Membership. It feeds the core datagrams
 * and the clock's time, sends what the core returns (encrypted when a keyring is set), and keeps a
 * single timer at the core's next deadline.
 */
export class Gossip {
  private stateValue: GossipState = "created";
  private readonly core: Membership;
  private timer: TimerHandle | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly listeners: ((e: MemberEvent) => void)[] = [];
  readonly counters: GossipCounters = { sent: 0, received: 0, undecryptable: 0, malformed: 0 };

  private constructor(
    private readonly opts: GossipOptions,
    private readonly deps: GossipDeps,
  ) {
    const adv = opts.advertise ?? { addr: deps.transport.local.host, port: deps.transport.local.port };
    this.core = new Membership({
      name: opts.name,
      addr: adv.addr,
      port: adv.port,
      meta: opts.meta,
      config: opts.config,
      random: deps.random,
      now: deps.clock.now(),
      packetBudget: (opts.config?.packetBytes ?? 1400) - (deps.keyring ? ENCRYPTION_OVERHEAD : 0),
    });
  }

  /** Builds a member; nothing is sent until start(). */
  static create(opts: GossipOptions, deps: GossipDeps): Gossip {
    return new Gossip(opts, deps);
  }

  /** Where it is in its lifecycle. */
  get state(): GossipState {
    return this.stateValue;
  }

  /** The pure core, for reading (config, health score, incarnation). */
  get membership(): Membership {
    return this.core;
  }

  /** Starts answering and probing, and joins through opts.join. */
  start(): void {
    if (this.stateValue !== "created") return;
    this.stateValue = "running";
    this.deps.transport.onMessage((data, from) => this.onDatagram(data, from));
    this.deps.logger?.info("gossip started", {
      node: this.opts.name,
      addr: `${this.deps.transport.local.host}:${this.deps.transport.local.port}`,
      encrypted: Boolean(this.deps.keyring),
      join: this.opts.join ?? [],
    });
    this.apply(this.core.joinVia(this.opts.join ?? [], this.deps.clock.now()));
  }

  /** Joins through more addresses (a runner that learned a new one). */
  join(addrs: string[]): void {
    if (this.stateValue === "running") this.apply(this.core.joinVia(addrs, this.deps.clock.now()));
  }

  /** Every known member, this one included. */
  members(): MemberView[] {
    return this.core.members();
  }

  /** Calls fn on every view change. */
  onEvent(fn: (e: MemberEvent) => void): void {
    this.listeners.push(fn);
  }

  /** Changes this member's tags or version; the pool hears it as an update. */
  setMeta(meta: MemberMeta): void {
    if (this.stateValue === "running") this.apply(this.core.setMeta(meta, this.deps.clock.now()));
  }

  /**
   * Leaves gracefully: the pool marks this member `left` (not failed). Gossip keeps running for
   * `linger` ms (default two gossip intervals) so the news goes out, then the member stops.
   */
  async leave(linger = 2 * this.core.config.gossipInterval): Promise<void> {
    if (this.stateValue !== "running") return this.stop();
    this.stateValue = "left";
    this.apply(this.core.leave(this.deps.clock.now()));
    await new Promise<void>((resolve) => this.deps.clock.setTimeout(resolve, linger));
    await this.stop();
  }

  /** Stops timers and closes the socket (a crash, as far as the pool can tell, unless it left first). */
  async stop(): Promise<void> {
    if (this.stateValue === "stopped") return;
    this.stateValue = "stopped";
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
    await this.deps.transport.close();
  }

  private onDatagram(data: Uint8Array, from: string): void {
    if (this.stateValue === "stopped") return;
    this.counters.received++;
    let plain: Uint8Array | null = data;
    if (this.deps.keyring) {
      plain = this.deps.keyring.decrypt(data);
      if (!plain) {
        this.counters.undecryptable++;
        return;
      }
    }
    const d = decodePacket(plain);
    if (!d) {
      this.counters.malformed++;
      return;
    }
    this.apply(this.core.receive(from, d.packet, this.deps.clock.now()));
  }

  private onTimer(): void {
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    if (this.stateValue === "stopped") return;
    this.apply(this.core.tick(this.deps.clock.now()));
  }

  private apply(step: Step): void {
    if (this.stateValue === "stopped") return;
    for (const o of step.send) {
      const bytes = encodePacket(o.packet);
      this.counters.sent++;
      this.deps.transport.send(o.to, this.deps.keyring ? this.deps.keyring.encrypt(bytes) : bytes);
    }
    for (const e of step.events) {
      this.deps.logger?.info(`gossip member ${e.type}`, {
        node: this.opts.name,
        member: e.member.name,
        status: e.member.status,
        incarnation: e.member.incarnation,
      });
      for (const l of this.listeners) l(e);
    }
    const next = this.core.nextDeadline();
    if (next < this.timerAt) {
      if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
      this.timerAt = next;
      this.timer = this.deps.clock.setTimeout(() => this.onTimer(), next - this.deps.clock.now());
    }
  }
}
