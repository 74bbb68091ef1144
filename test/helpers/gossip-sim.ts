import {
  decodePacket,
  encodePacket,
  type GossipConfigInput,
  type MemberEvent,
  type MemberMeta,
  type MemberStatus,
  Membership,
  type Packet,
  packetBytes,
  type Step,
  seededRandom,
} from "../../runner/gossip";
import { EventQueue } from "./event-queue";
import { type NetWeather, SimNetwork } from "./sim-network";
import { TraceRing } from "./sim-trace";

/** How a simulated gossip pool is built. Delays are in virtual milliseconds. */
export interface GossipSimOptions {
  seed: number;
  weather?: NetWeather;
  config?: GossipConfigInput;
  /**
   * Encode and decode every datagram through the zod wire format (default false: the cores then share
   * the message objects, which they never mutate, and every packet's encoded size is still checked).
   */
  wire?: boolean;
  /** A hook per datagram: return false to drop it (a wrong-key receiver, say). */
  filter?: (from: string, to: string, bytes: Uint8Array | undefined) => boolean;
}

interface SimMember {
  name: string;
  m: Membership;
  /** Crashed: no timers, nothing delivered, nothing sent. */
  down: boolean;
  /** Paused (a stopped process): no timers and nothing delivered until this time. */
  pausedUntil: number;
  wakeAt: number;
}

type Ev =
  | { kind: "deliver"; from: string; to: string; packet: Packet | undefined; bytes: Uint8Array | undefined }
  | { kind: "wake"; name: string };

/** The default weather: 1% loss, 1-5 ms one-way delay, no duplicates. */
export const LOSSY_1PCT: NetWeather = { dropRate: 0.01, dupRate: 0, minDelay: 1, maxDelay: 5 };

/** A member's meta in simulations. */
export function simMeta(name: string, tags: Record<string, string> = {}): MemberMeta {
  return {
    role: name.startsWith("c") ? "control" : "runner",
    version: "0.1.0",
    tags: { node: name, ...tags },
  };
}

/**
 * A seeded, deterministic gossip pool on virtual time: Membership cores exchanging datagrams over a
 * SimNetwork (loss, delay, partitions) driven by one event queue. Members can be crashed, paused and
 * resumed, and every view change is recorded with its observer, so a test asserts on who knew what
 * when. Every packet is checked against the datagram size limit.
 */
export class GossipSim {
  now = 0;
  readonly net: SimNetwork;
  readonly trace = new TraceRing(400);
  /** Every view change: observer, event. */
  readonly log: { observer: string; event: MemberEvent }[] = [];
  /** Datagrams sent, and the largest one's bytes. */
  packets = 0;
  largest = 0;
  private readonly members = new Map<string, SimMember>();
  private readonly queue = new EventQueue<Ev>();
  private readonly random: ReturnType<typeof seededRandom>;
  private readonly wire: boolean;
  private listeners: ((observer: string, e: MemberEvent) => void)[] = [];

  constructor(readonly opts: GossipSimOptions) {
    this.random = seededRandom(opts.seed);
    this.net = new SimNetwork(seededRandom(opts.seed ^ 0x5eed), opts.weather ?? LOSSY_1PCT);
    this.wire = opts.wire ?? false;
  }

  /** The simulated address of a member. */
  static addr(name: string): string {
    return `${name}:7946`;
  }

  /** Member names, in creation order. */
  names(): string[] {
    return [...this.members.keys()];
  }

  /** The core of a member. */
  core(name: string): Membership {
    const s = this.members.get(name);
    if (!s) throw new Error(`no member ${name}`);
    return s.m;
  }

  /** Calls fn on every view change from now on. */
  onEvent(fn: (observer: string, e: MemberEvent) => void): void {
    this.listeners.push(fn);
  }

  /** Adds a member that joins through the given seed names (none: it starts a pool). */
  add(name: string, seeds: string[] = [], config: GossipConfigInput = this.opts.config ?? {}): Membership {
    const m = new Membership({
      name,
      addr: name,
      port: 7946,
      meta: simMeta(name),
      config,
      random: seededRandom(this.random.int(2 ** 32)),
      now: this.now,
    });
    const s: SimMember = { name, m, down: false, pausedUntil: 0, wakeAt: Number.POSITIVE_INFINITY };
    this.members.set(name, s);
    this.apply(s, m.joinVia(seeds.map(GossipSim.addr), this.now));
    return m;
  }

  /** Builds n members (n0…n{n-1}), each joining through a random earlier one, and runs until all agree. */
  grow(n: number, prefix = "n", withinMs = 60_000): void {
    for (let i = 0; i < n; i++) {
      const existing = this.names();
      const seed = existing.length > 0 ? [existing[this.random.int(existing.length)] as string] : [];
      this.add(`${prefix}${i}`, seed);
      this.run(5);
    }
    if (!this.runUntil(() => this.converged(), withinMs))
      throw new Error(`seed ${this.opts.seed}: ${n} members did not converge in ${withinMs} ms`);
  }

  /**
   * Builds n members that already know each other (each created with the others as `known`, as from
   * a snapshot) and lets their own alive broadcasts settle: how a 1,000-member pool starts in seconds.
   */
  bootstrap(n: number, prefix = "n", settleMs = 5_000): void {
    const names = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    const known = names.map((x) => ({
      node: x,
      addr: x,
      port: 7946,
      inc: 1,
      st: "alive" as const,
      meta: simMeta(x),
    }));
    for (const name of names) {
      const m = new Membership({
        name,
        addr: name,
        port: 7946,
        meta: simMeta(name),
        config: this.opts.config ?? {},
        random: seededRandom(this.random.int(2 ** 32)),
        now: this.now,
        known,
      });
      const s: SimMember = { name, m, down: false, pausedUntil: 0, wakeAt: Number.POSITIVE_INFINITY };
      this.members.set(name, s);
      this.apply(s, { send: [], events: [] });
    }
    this.run(settleMs);
  }

  /** Crashes a member: it neither ticks nor receives again. */
  kill(name: string): void {
    const s = this.must(name);
    s.down = true;
    this.trace.add(this.now, `KILL ${name}`);
  }

  /** Stops a member for ms (SIGSTOP): its timers and incoming datagrams wait, then it carries on. */
  pause(name: string, ms: number): void {
    const s = this.must(name);
    s.pausedUntil = this.now + ms;
    this.trace.add(this.now, `PAUSE ${name} for ${ms} ms`);
    this.queue.push(s.pausedUntil, { kind: "wake", name });
  }

  /** Calls a core method on a member at the current time and sends what it produced. */
  act(name: string, fn: (m: Membership, now: number) => Step): void {
    const s = this.must(name);
    this.apply(s, fn(s.m, this.now));
  }

  /** Runs the simulation for ms of virtual time. */
  run(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const at = this.queue.peekTime();
      if (at === undefined || at > end) break;
      const ev = this.queue.pop();
      if (!ev) break;
      this.now = ev.at;
      this.handle(ev.item);
    }
    this.now = end;
  }

  /** Runs until pred holds (checked every `everyMs`) or maxMs pass; whether it held. */
  runUntil(pred: () => boolean, maxMs: number, everyMs = 50): boolean {
    const end = this.now + maxMs;
    while (this.now < end) {
      if (pred()) return true;
      this.run(Math.min(everyMs, end - this.now));
    }
    return pred();
  }

  /** What `observer` thinks of `target`, or undefined if it does not know it. */
  statusOf(observer: string, target: string): MemberStatus | undefined {
    return this.must(observer).m.member(target)?.status;
  }

  /** Members that are running (not crashed). */
  running(): string[] {
    return [...this.members.values()].filter((s) => !s.down && !s.m.hasLeft).map((s) => s.name);
  }

  /** Whether every running member sees every running member alive and nothing else alive. */
  converged(): boolean {
    const up = this.running();
    const upSet = new Set(up);
    return up.every((o) => {
      const view = this.must(o).m.members();
      const alive = view.filter((v) => v.status === "alive");
      return alive.length === up.length && alive.every((v) => upSet.has(v.name));
    });
  }

  private must(name: string): SimMember {
    const s = this.members.get(name);
    if (!s) throw new Error(`no member ${name}`);
    return s;
  }

  private handle(ev: Ev): void {
    if (ev.kind === "wake") {
      const s = this.must(ev.name);
      if (s.down || this.now < s.pausedUntil) return;
      if (this.now < s.wakeAt && this.now !== s.pausedUntil) return;
      s.wakeAt = Number.POSITIVE_INFINITY;
      this.apply(s, s.m.tick(this.now));
      return;
    }
    const s = this.members.get(ev.to);
    if (!s || s.down || this.now < s.pausedUntil) return;
    if (this.opts.filter && !this.opts.filter(ev.from, ev.to, ev.bytes)) return;
    let packet = ev.packet;
    if (ev.bytes) {
      const d = decodePacket(ev.bytes);
      if (!d) return;
      packet = d.packet;
    }
    if (!packet) return;
    this.apply(s, s.m.receive(GossipSim.addr(ev.from), packet, this.now));
  }

  private apply(s: SimMember, step: Step): void {
    for (const e of step.events) {
      this.log.push({ observer: s.name, event: e });
      this.trace.add(this.now, `${s.name}: ${e.member.name} ${e.type} inc=${e.member.incarnation}`);
      for (const l of this.listeners) l(s.name, e);
    }
    if (!s.down) {
      const limit = s.m.config.packetBytes;
      for (const o of step.send) {
        const to = o.to.slice(0, o.to.lastIndexOf(":"));
        this.packets++;
        let bytes: Uint8Array | undefined;
        if (this.wire || this.opts.filter) bytes = encodePacket(o.packet);
        const size = bytes ? bytes.length : packetBytes(o.packet);
        this.largest = Math.max(this.largest, size);
        if (size > limit)
          throw new Error(`seed ${this.opts.seed}: ${s.name} sent a ${size}-byte datagram (limit ${limit})`);
        for (const delay of this.net.plan(s.name, to))
          this.queue.push(this.now + delay, {
            kind: "deliver",
            from: s.name,
            to,
            packet: this.wire ? undefined : o.packet,
            bytes,
          });
      }
    }
    const next = Math.max(this.now, s.m.nextDeadline());
    if (next < s.wakeAt) {
      s.wakeAt = next;
      this.queue.push(next, { kind: "wake", name: s.name });
    }
  }
}

/** The seeds a gossip test runs: GOSSIP_SEED=S replays one, else the defaults given. */
export function gossipSeeds(defaults: number[]): number[] {
  const one = process.env.GOSSIP_SEED;
  return one !== undefined && one !== "" ? [Number(one)] : defaults;
}
