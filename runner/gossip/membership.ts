import { AppError } from "../../shared";
import { BroadcastQueue } from "./broadcasts";
import {
  type GossipConfig,
  type GossipConfigInput,
  pushPullIntervalMs,
  remainingSuspicionMs,
  resolveGossipConfig,
  retransmitLimit,
  suspicionConfirmations,
  suspicionMaxMs,
  suspicionMinMs,
} from "./config";
import {
  type Alive,
  type Dead,
  type GossipMessage,
  META_MAX_BYTES,
  type MemberMeta,
  messageBytes,
  PACKET_OVERHEAD,
  type Packet,
  type PingReq,
  type PushPull,
  type PushState,
  type Suspect,
  utf8Length,
} from "./messages";
import { pickRandom, type Random, shuffle } from "./random";

/** A member's state in this member's view (memberlist's StateAlive/Suspect/Dead/Left). */
export type MemberStatus = "alive" | "suspect" | "dead" | "left";

/** One member as this member sees it. */
export interface MemberView {
  name: string;
  addr: string;
  port: number;
  meta: MemberMeta;
  incarnation: number;
  status: MemberStatus;
  /** When the status last changed (virtual or wall ms). */
  since: number;
}

/** What changed in the view: Serf's member-join/update/failed/leave/reap, plus suspicion and recovery. */
export type MemberEventType = "join" | "update" | "suspect" | "alive" | "failed" | "left" | "reaped";

/** One change in the view. */
export interface MemberEvent {
  type: MemberEventType;
  member: MemberView;
  at: number;
}

/** A datagram to send: the packet for "host:port". */
export interface Outgoing {
  to: string;
  packet: Packet;
}

/** What one call produced: packets to send and view changes to report. */
export interface Step {
  send: Outgoing[];
  events: MemberEvent[];
}

/** How a Membership is built. */
export interface MembershipOptions {
  name: string;
  /** The address and port others reach this member's gossip socket at. */
  addr: string;
  port: number;
  meta: MemberMeta;
  config?: GossipConfigInput;
  /** The only source of randomness; seeded in simulations. */
  random: Random;
  /** The time of creation; every later call passes its own `now`. */
  now: number;
  /** Bytes a packet may take before the transport wraps it (packetBytes minus encryption overhead). */
  packetBudget?: number;
  /** The incarnation to start at (default 1). */
  incarnation?: number;
  /**
   * Members known from before (Serf's snapshot of a previous run): listed as alive at their
   * incarnation without broadcasting them, so the first probes check them and push-pull corrects them.
   */
  known?: PushState[];
}

interface Node {
  name: string;
  addr: string;
  port: number;
  meta: MemberMeta;
  inc: number;
  status: MemberStatus;
  since: number;
}

interface DirectProbe {
  kind: "direct";
  target: string;
  indirectAt: number;
  deadline: number;
  indirectSent: boolean;
  expectedNacks: number;
  nacks: number;
}

interface RelayProbe {
  kind: "relay";
  origin: string;
  originSeq: number;
  wantNack: boolean;
  deadline: number;
}

interface Suspicion {
  /** Confirmations wanted before the timeout reaches min. */
  k: number;
  /** Confirmations so far. */
  n: number;
  min: number;
  max: number;
  start: number;
  confirmations: Set<string>;
  deadline: number;
}

/** "host:port", bracketing IPv6 hosts. */
export function hostPort(addr: string, port: number): string {
  return addr.includes(":") ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function metaEqual(a: MemberMeta, b: MemberMeta): boolean {
  if (a.role !== b.role || a.version !== b.version) return false;
  if ((a.keys ?? []).join() !== (b.keys ?? []).join()) return false;
  const ka = Object.keys(a.tags);
  if (ka.length !== Object.keys(b.tags).length) return false;
  return ka.every((k) => b.tags[k] === a.tags[k]);
}

const isLive = (s: MemberStatus) => s === "alive" || s === "suspect";

/**
 * The SWIM membership of one member as a pure state machine on the time it is given: no I/O, no
 * clock, no randomness but the injected one. Every input (`tick`, `receive`, `join`, `leave`,
 * `setMeta`) takes `now` and returns the packets to send and the view changes; `nextDeadline()` says
 * when `tick` must run next. The rules are memberlist's (state.go, suspicion.go, awareness.go):
 * round-robin probes with ping-req through k members, Lifeguard nacks and local health, suspicion that
 * decays from max to min with independent confirmations, refutation by incarnation, broadcasts
 * piggy-backed on every packet with a retransmit limit, push-pull full-state sync, graceful leave.
 */
export class Membership {
  readonly config: GossipConfig;
  private readonly self: Node;
  private readonly random: Random;
  private readonly budget: number;
  private readonly nodes = new Map<string, Node>();
  private nodeList: Node[] = [];
  private live = 1;
  private probeList: string[] = [];
  private probeIndex = 0;
  private readonly probes = new Map<number, DirectProbe | RelayProbe>();
  private readonly suspicions = new Map<string, Suspicion>();
  private readonly broadcasts = new BroadcastQueue();
  private readonly replied = new Map<string, number>();
  private awareness = 0;
  private seq = 0;
  private ppSeq = 0;
  private left = false;
  private join: { addrs: string[]; id: number } | null = null;
  private nextProbeAt: number;
  private nextGossipAt: number;
  private nextPushPullAt: number;
  private nextReconnectAt: number;
  private nextReapAt: number;
  private joinRetryAt = Number.POSITIVE_INFINITY;
  private out: Outgoing[] = [];
  private events: MemberEvent[] = [];

  constructor(opts: MembershipOptions) {
    this.config = resolveGossipConfig(opts.config);
    this.random = opts.random;
    this.budget = Math.min(opts.packetBudget ?? this.config.packetBytes, this.config.packetBytes);
    checkMeta(opts.meta);
    this.self = {
      name: opts.name,
      addr: opts.addr,
      port: opts.port,
      meta: opts.meta,
      inc: opts.incarnation ?? 1,
      status: "alive",
      since: opts.now,
    };
    this.nodes.set(this.self.name, this.self);
    this.nodeList.push(this.self);
    const c = this.config;
    // Staggered starts, as memberlist's schedule(), so members that start together do not beat in step.
    this.nextProbeAt = opts.now + this.random.int(c.probeInterval);
    this.nextGossipAt = opts.now + this.random.int(c.gossipInterval);
    this.nextPushPullAt = opts.now + c.pushPullInterval + this.random.int(c.pushPullInterval);
    this.nextReconnectAt = opts.now + c.reconnectInterval + this.random.int(c.reconnectInterval);
    this.nextReapAt = opts.now + 10_000;
    for (const k of opts.known ?? []) {
      if (k.node === this.self.name || this.nodes.has(k.node)) continue;
      const n: Node = {
        name: k.node,
        addr: k.addr,
        port: k.port,
        meta: k.meta,
        inc: k.inc,
        status: "alive",
        since: opts.now,
      };
      this.nodes.set(n.name, n);
      this.nodeList.push(n);
      this.live++;
    }
    this.broadcasts.push(this.self.name, this.aliveOf(this.self));
  }

  /** This member's name. */
  get name(): string {
    return this.self.name;
  }

  /** This member's incarnation (it grows with every refutation and meta change). */
  get incarnation(): number {
    return this.self.inc;
  }

  /** Lifeguard's local health score, 0 (healthy) to awarenessMaxMultiplier − 1. */
  get healthScore(): number {
    return this.awareness;
  }

  /** Whether this member has left (gracefully). */
  get hasLeft(): boolean {
    return this.left;
  }

  /** Whether a join is still waiting for a seed to answer. */
  get joining(): boolean {
    return this.join !== null;
  }

  /** Alive and suspect members, this one included (memberlist's estNumNodes). */
  get liveCount(): number {
    return this.live;
  }

  /** Every known member, this one included, sorted by name. */
  members(): MemberView[] {
    return this.nodeList.map(view).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** One member's view, if known. */
  member(name: string): MemberView | undefined {
    const n = this.nodes.get(name);
    return n ? view(n) : undefined;
  }

  /** When `tick` must next run (it may run earlier; it does nothing before a deadline). */
  nextDeadline(): number {
    let t = Math.min(this.nextGossipAt, this.nextReapAt, this.joinRetryAt);
    if (!this.left) t = Math.min(t, this.nextProbeAt, this.nextPushPullAt, this.nextReconnectAt);
    for (const p of this.probes.values()) {
      t = Math.min(t, p.deadline);
      if (p.kind === "direct" && !p.indirectSent) t = Math.min(t, p.indirectAt);
    }
    for (const s of this.suspicions.values()) t = Math.min(t, s.deadline);
    return t;
  }

  /** Starts a join: a push-pull to each seed address, retried until one answers. */
  joinVia(addrs: string[], now: number): Step {
    const seeds = addrs.filter((a) => a !== hostPort(this.self.addr, this.self.port));
    if (seeds.length > 0 && !this.left) {
      this.join = { addrs: seeds, id: ++this.ppSeq };
      this.sendJoin(now);
    }
    return this.flush();
  }

  /** Leaves gracefully: a dead-from-itself message marks it `left` everywhere, which is not a failure. */
  leave(now: number): Step {
    if (this.left) return this.flush();
    this.left = true;
    this.join = null;
    this.joinRetryAt = Number.POSITIVE_INFINITY;
    const d: Dead = { t: "dead", node: this.self.name, inc: this.self.inc, from: this.self.name };
    this.onDead(d, now);
    // Tell every live member at once too, not only through the queued broadcast: a leave happens once
    // per member and costs n small datagrams, while gossip alone misses some member with a few per
    // cent chance at memberlist's retransmit limit (8 sends each at n = 99: e^-8 per member).
    for (const n of this.nodeList)
      if (n !== this.self && isLive(n.status)) this.sendPacket(hostPort(n.addr, n.port), [d]);
    return this.flush();
  }

  /** Changes this member's meta (tags, version): a new incarnation, gossiped as an update. */
  setMeta(meta: MemberMeta, now: number): Step {
    checkMeta(meta);
    if (!this.left && !metaEqual(meta, this.self.meta)) {
      this.self.meta = meta;
      this.self.inc++;
      this.broadcasts.push(this.self.name, this.aliveOf(this.self));
      this.emit("update", this.self, now);
    }
    return this.flush();
  }

  /** Runs every timer that is due at `now`. */
  tick(now: number): Step {
    const c = this.config;
    for (const [seq, p] of this.probes) {
      if (p.kind === "direct" && !p.indirectSent && now >= p.indirectAt) this.sendIndirect(seq, p);
      if (now >= p.deadline) {
        this.probes.delete(seq);
        if (p.kind === "direct") this.probeFailed(p, now);
        else if (p.wantNack) this.sendPacket(p.origin, [{ t: "nack", seq: p.originSeq }]);
      }
    }
    for (const [name, s] of this.suspicions) {
      if (now < s.deadline) continue;
      this.suspicions.delete(name);
      const n = this.nodes.get(name);
      if (n && n.status === "suspect" && n.since === s.start)
        this.onDead({ t: "dead", node: name, inc: n.inc, from: this.self.name }, now);
    }
    if (!this.left && now >= this.nextProbeAt) this.probe(now);
    if (now >= this.nextGossipAt) {
      this.gossip(now);
      this.nextGossipAt = now + c.gossipInterval;
    }
    if (!this.left && now >= this.nextPushPullAt) {
      const peer = pickRandom(
        this.nodeList,
        1,
        this.random,
        (n) => n !== this.self && n.status === "alive",
      )[0];
      if (peer) this.sendState(hostPort(peer.addr, peer.port), ++this.ppSeq, true);
      this.nextPushPullAt = now + pushPullIntervalMs(c, this.live);
    }
    if (this.join && now >= this.joinRetryAt) this.sendJoin(now);
    if (!this.left && now >= this.nextReconnectAt) {
      const dead = pickRandom(this.nodeList, 1, this.random, (n) => n.status === "dead")[0];
      if (dead) this.sendState(hostPort(dead.addr, dead.port), ++this.ppSeq, true);
      this.nextReconnectAt = now + c.reconnectInterval;
    }
    if (now >= this.nextReapAt) {
      this.reap(now);
      this.nextReapAt = now + 10_000;
    }
    return this.flush();
  }

  /** Handles one datagram's messages from "host:port". */
  receive(from: string, packet: Packet, now: number): Step {
    for (const m of packet) this.handle(from, m, now);
    return this.flush();
  }

  private handle(from: string, m: GossipMessage, now: number): void {
    switch (m.t) {
      case "ping":
        // A ping meant for a previous owner of this address is not ours to answer.
        if (m.node === this.self.name) this.sendPacket(from, [{ t: "ack", seq: m.seq }]);
        return;
      case "ack": {
        const p = this.probes.get(m.seq);
        if (!p) return;
        this.probes.delete(m.seq);
        if (p.kind === "direct") this.applyAwareness(-1);
        else this.sendPacket(p.origin, [{ t: "ack", seq: p.originSeq }]);
        return;
      }
      case "nack": {
        const p = this.probes.get(m.seq);
        if (p?.kind === "direct") p.nacks++;
        return;
      }
      case "preq":
        this.relay(from, m, now);
        return;
      case "alive":
        this.onAlive(m, now);
        return;
      case "suspect":
        this.onSuspect(m, now, from);
        return;
      case "dead":
        this.onDead(m, now);
        return;
      case "pp":
        this.onPushPull(from, m, now);
        return;
    }
  }

  // --- failure detection -------------------------------------------------------------------------

  private scaled(ms: number): number {
    return ms * (this.awareness + 1);
  }

  private applyAwareness(delta: number): void {
    this.awareness = Math.max(0, Math.min(this.config.awarenessMaxMultiplier - 1, this.awareness + delta));
  }

  /** The next member in a shuffled round-robin, skipping this one and the dead (memberlist probe()). */
  private probe(now: number): void {
    const interval = this.scaled(this.config.probeInterval);
    this.nextProbeAt = now + interval;
    for (let checked = 0; checked <= this.probeList.length; checked++) {
      if (this.probeIndex >= this.probeList.length) {
        this.probeList = shuffle(
          this.nodeList.filter((n) => n !== this.self && isLive(n.status)).map((n) => n.name),
          this.random,
        );
        this.probeIndex = 0;
        if (this.probeList.length === 0) return;
      }
      const n = this.nodes.get(this.probeList[this.probeIndex++] as string);
      if (!n || n === this.self || !isLive(n.status)) continue;
      const seq = ++this.seq;
      const msgs: GossipMessage[] = [{ t: "ping", seq, node: n.name, from: this.self.name }];
      // A suspect is told so with the ping, to give it the chance to refute.
      if (n.status === "suspect") msgs.push({ t: "suspect", node: n.name, inc: n.inc, from: this.self.name });
      this.sendPacket(hostPort(n.addr, n.port), msgs);
      this.probes.set(seq, {
        kind: "direct",
        target: n.name,
        indirectAt: now + this.scaled(this.config.probeTimeout),
        deadline: now + interval,
        indirectSent: false,
        expectedNacks: 0,
        nacks: 0,
      });
      return;
    }
  }

  private sendIndirect(seq: number, p: DirectProbe): void {
    p.indirectSent = true;
    const target = this.nodes.get(p.target);
    if (!target) return;
    const peers = pickRandom(
      this.nodeList,
      this.config.indirectChecks,
      this.random,
      (n) => n !== this.self && n !== target && n.status === "alive",
    );
    const req: PingReq = {
      t: "preq",
      seq,
      node: target.name,
      addr: hostPort(target.addr, target.port),
      from: this.self.name,
      nack: true,
    };
    for (const peer of peers) this.sendPacket(hostPort(peer.addr, peer.port), [req]);
    p.expectedNacks = peers.length;
  }

  /** No ack by the deadline: Lifeguard scores our own health by the nacks missing, then suspects. */
  private probeFailed(p: DirectProbe, now: number): void {
    this.applyAwareness(p.expectedNacks > 0 ? Math.max(0, p.expectedNacks - p.nacks) : 1);
    const n = this.nodes.get(p.target);
    if (!n || !isLive(n.status)) return;
    this.onSuspect({ t: "suspect", node: n.name, inc: n.inc, from: this.self.name }, now);
  }

  /** Pings a target for another member and forwards its ack, or a nack when none comes in time. */
  private relay(from: string, m: PingReq, now: number): void {
    const seq = ++this.seq;
    this.sendPacket(m.addr, [{ t: "ping", seq, node: m.node, from: this.self.name }]);
    this.probes.set(seq, {
      kind: "relay",
      origin: from,
      originSeq: m.seq,
      wantNack: m.nack,
      deadline: now + this.config.probeTimeout,
    });
  }

  // --- state transitions (memberlist aliveNode / suspectNode / deadNode) --------------------------

  private onAlive(a: Alive, now: number): void {
    const isLocal = a.node === this.self.name;
    if (isLocal && this.left) return;
    let n = this.nodes.get(a.node);
    let isNew = false;
    let movesNode = false;
    if (!n) {
      n = { name: a.node, addr: a.addr, port: a.port, meta: a.meta, inc: 0, status: "dead", since: now };
      isNew = true;
      this.nodes.set(n.name, n);
      this.nodeList.push(n);
      // A new member goes to a random place in the probe round, as memberlist does.
      this.probeList.splice(
        this.probeIndex + this.random.int(this.probeList.length - this.probeIndex + 1),
        0,
        n.name,
      );
    } else if (!isLocal && (n.addr !== a.addr || n.port !== a.port)) {
      // A live member's address is not taken over by another claimant; a dead or left one's may be.
      if (isLive(n.status)) return;
      movesNode = true;
    }
    if (!isNew && a.inc <= n.inc && !isLocal && !movesNode) return;
    if (isLocal) {
      if (a.inc < n.inc) return;
      if (a.inc === n.inc && metaEqual(a.meta, n.meta) && a.addr === n.addr && a.port === n.port) return;
      this.refute(a.inc);
      return;
    }
    this.suspicions.delete(a.node);
    this.broadcasts.push(a.node, a);
    const old = n.status;
    const metaChanged = !metaEqual(a.meta, n.meta);
    n.inc = a.inc;
    n.meta = a.meta;
    n.addr = a.addr;
    n.port = a.port;
    if (old !== "alive") this.setStatus(n, "alive", now);
    if (isNew || old === "dead" || old === "left") this.emit("join", n, now);
    else if (old === "suspect") this.emit("alive", n, now);
    if (!isNew && metaChanged && isLive(old)) this.emit("update", n, now);
  }

  private onSuspect(s: Suspect, now: number, replyTo?: string): void {
    const n = this.nodes.get(s.node);
    if (!n || s.inc < n.inc) return;
    // Whoever passed this on still thinks a departed member is around (it missed the leave): tell it.
    // Only a leave, which the member said itself; a death stays a matter for suspicion and refutation.
    if (n.status === "left" && replyTo !== undefined) {
      this.sendPacket(replyTo, [{ t: "dead", node: n.name, inc: n.inc, from: n.name }]);
      return;
    }
    const sus = this.suspicions.get(s.node);
    if (sus) {
      if (this.confirm(sus, s.from, now)) this.broadcasts.push(s.node, s);
      return;
    }
    if (n.status !== "alive") return;
    if (n === this.self) {
      this.refute(s.inc);
      return;
    }
    this.broadcasts.push(s.node, s);
    n.inc = s.inc;
    this.setStatus(n, "suspect", now);
    const c = this.config;
    const k = suspicionConfirmations(c, this.live);
    const min = suspicionMinMs(c, this.live);
    const max = suspicionMaxMs(c, this.live);
    this.suspicions.set(s.node, {
      k,
      n: 0,
      min,
      max,
      start: now,
      confirmations: new Set([s.from]),
      deadline: now + (k < 1 ? min : max),
    });
    this.emit("suspect", n, now);
  }

  /** An independent confirmation shortens the timer (memberlist suspicion.Confirm). */
  private confirm(s: Suspicion, from: string, now: number): boolean {
    if (s.n >= s.k || s.confirmations.has(from)) return false;
    s.confirmations.add(from);
    s.n++;
    s.deadline = now + Math.max(0, remainingSuspicionMs(s.n, s.k, now - s.start, s.min, s.max));
    return true;
  }

  private onDead(d: Dead, now: number): void {
    const n = this.nodes.get(d.node);
    if (!n || d.inc < n.inc) return;
    this.suspicions.delete(d.node);
    if (n.status === "dead" || n.status === "left") return;
    if (n === this.self && !this.left) {
      this.refute(d.inc);
      return;
    }
    this.broadcasts.push(d.node, d);
    n.inc = d.inc;
    const leaving = d.node === d.from;
    this.setStatus(n, leaving ? "left" : "dead", now);
    this.emit(leaving ? "left" : "failed", n, now);
  }

  /** Heard itself suspected or declared dead: a higher incarnation says otherwise. */
  private refute(accused: number): void {
    this.self.inc = Math.max(this.self.inc + 1, accused + 1);
    this.applyAwareness(1);
    this.broadcasts.push(this.self.name, this.aliveOf(this.self));
  }

  private setStatus(n: Node, status: MemberStatus, now: number): void {
    this.live += (isLive(status) ? 1 : 0) - (isLive(n.status) ? 1 : 0);
    n.status = status;
    n.since = now;
  }

  /** Forgets dead and left members after reapAfter (Serf's reap), so the view does not grow forever. */
  private reap(now: number): void {
    const gone = this.nodeList.filter(
      (n) => n !== this.self && !isLive(n.status) && now - n.since >= this.config.reapAfter,
    );
    if (gone.length === 0) return;
    for (const n of gone) {
      this.nodes.delete(n.name);
      this.emit("reaped", n, now);
    }
    this.nodeList = this.nodeList.filter((n) => this.nodes.get(n.name) === n);
  }

  // --- dissemination ------------------------------------------------------------------------------

  /** Alive and suspect members, and the recently dead (so they can still refute). */
  private gossipTargets(now: number): Node[] {
    return pickRandom(
      this.nodeList,
      this.config.gossipNodes,
      this.random,
      (n) =>
        n !== this.self &&
        (isLive(n.status) || (n.status === "dead" && now - n.since <= this.config.gossipToTheDead)),
    );
  }

  private gossip(now: number): void {
    if (this.broadcasts.size === 0) return;
    for (const n of this.gossipTargets(now)) {
      if (!this.sendPacket(hostPort(n.addr, n.port), [])) return;
    }
  }

  /** Queues a packet of msgs with as many broadcasts as still fit; false when there was nothing to send. */
  private sendPacket(to: string, msgs: GossipMessage[]): boolean {
    let used = PACKET_OVERHEAD + Math.max(0, msgs.length - 1);
    for (const m of msgs) used += messageBytes(m);
    const extra = this.broadcasts.take(
      this.budget - used - (msgs.length > 0 ? 1 : 0),
      1,
      retransmitLimit(this.config, this.live),
    );
    const packet = extra.length > 0 ? [...msgs, ...extra] : msgs;
    if (packet.length === 0) return false;
    this.out.push({ to, packet });
    return true;
  }

  // --- push-pull ----------------------------------------------------------------------------------

  private sendJoin(now: number): void {
    if (!this.join) return;
    for (const a of this.join.addrs) this.sendState(a, this.join.id, true);
    this.joinRetryAt = now + this.config.joinRetryInterval;
  }

  /** Sends this member's full state to `to` in chunks that each fit a packet. */
  private sendState(to: string, id: number, reply: boolean): void {
    const head: PushPull = { t: "pp", id, from: this.self.name, reply, s: [] };
    const base = PACKET_OVERHEAD + messageBytes(head);
    let chunk: PushState[] = [];
    let size = base;
    const flushChunk = () => {
      if (chunk.length > 0) this.out.push({ to, packet: [{ ...head, s: chunk }] });
      chunk = [];
      size = base;
    };
    for (const n of this.nodeList) {
      const st: PushState = {
        node: n.name,
        addr: n.addr,
        port: n.port,
        inc: n.inc,
        st: n.status,
        meta: n.meta,
      };
      const bytes = utf8Length(JSON.stringify(st));
      // The comma before every state but a chunk's first.
      if (chunk.length > 0 && size + 1 + bytes > this.budget) flushChunk();
      size += bytes + (chunk.length > 0 ? 1 : 0);
      chunk.push(st);
    }
    flushChunk();
  }

  /** memberlist mergeState: alive as alive, left as left, dead and suspect as a suspicion to refute. */
  private onPushPull(from: string, m: PushPull, now: number): void {
    for (const st of m.s) {
      if (st.st === "alive")
        this.onAlive(
          { t: "alive", node: st.node, inc: st.inc, addr: st.addr, port: st.port, meta: st.meta },
          now,
        );
      else if (st.st === "left") this.onDead({ t: "dead", node: st.node, inc: st.inc, from: st.node }, now);
      else this.onSuspect({ t: "suspect", node: st.node, inc: st.inc, from: this.self.name }, now);
    }
    if (m.reply) {
      const key = `${m.from}#${m.id}`;
      if (!this.replied.has(key)) {
        if (this.replied.size >= 1024) {
          for (const [k, at] of this.replied) if (now - at > 60_000) this.replied.delete(k);
        }
        this.replied.set(key, now);
        this.sendState(from, m.id, false);
      }
    } else if (this.join && m.id === this.join.id) {
      this.join = null;
      this.joinRetryAt = Number.POSITIVE_INFINITY;
    }
  }

  // --- helpers ------------------------------------------------------------------------------------

  private aliveOf(n: Node): Alive {
    return { t: "alive", node: n.name, inc: n.inc, addr: n.addr, port: n.port, meta: n.meta };
  }

  private emit(type: MemberEventType, n: Node, at: number): void {
    this.events.push({ type, member: view(n), at });
  }

  private flush(): Step {
    const step = { send: this.out, events: this.events };
    this.out = [];
    this.events = [];
    return step;
  }
}

function view(n: Node): MemberView {
  return {
    name: n.name,
    addr: n.addr,
    port: n.port,
    meta: n.meta,
    incarnation: n.inc,
    status: n.status,
    since: n.since,
  };
}

function checkMeta(meta: MemberMeta): void {
  const bytes = utf8Length(JSON.stringify(meta));
  if (bytes > META_MAX_BYTES)
    throw new AppError(
      "VALIDATION",
      `gossip meta (role, version, tags) is ${bytes} bytes; at most ${META_MAX_BYTES}`,
    );
}
