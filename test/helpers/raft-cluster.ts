import { persistBatch, RaftNode, type Ready } from "../../control/raft/core";
import { MemoryLogStore } from "../../control/raft/log-store";
import type { Message } from "../../control/raft/messages";
import type { RaftTunablesInput } from "../../control/raft/options";
import { forkRandom, type Random, seededRandom } from "../../control/raft/random";
import { EventQueue } from "./event-queue";
import { type KvResult, KvStateMachine } from "./kv-state-machine";
import { RaftInvariants } from "./raft-invariants";
import { type NetWeather, SimNetwork } from "./sim-network";
import { TraceRing } from "./sim-trace";

/** Virtual time units per Raft tick; message and disk delays are drawn in these units. */
export const TICK = 10;

/** How to build a simulated cluster. */
export interface ClusterOptions {
  seed: number;
  /** Founding voters n1..nN. */
  voters: number;
  /** Extra nodes (running, empty, outside the configuration) that membership changes may add. */
  spares?: number;
  tunables?: RaftTunablesInput;
  weather?: NetWeather;
  /** Upper bound of the delay before a Ready's writes become durable, in time units. */
  diskMaxDelay?: number;
  /** Each node's tick period is TICK ± this (clock drift between nodes). */
  tickJitter?: number;
  /**
   * Each directed link delivers in send order, like the production transport's one stream per peer.
   * Off by default: the simulator reorders freely, which Raft must survive anyway.
   */
  fifo?: boolean;
}

type SimEvent =
  | { k: "tick"; node: string; inc: number }
  | { k: "deliver"; msg: Message }
  | { k: "persist"; node: string; inc: number }
  | { k: "call"; label: string; fn: () => void };

/** One simulated process: its "disk" (log store and state machine survive crashes) and its Raft node. */
export class SimNode {
  readonly store = new MemoryLogStore();
  readonly sm = new KvStateMachine();
  raft: RaftNode | null = null;
  /** Bumped on every restart; events of an older incarnation are ignored. */
  inc = 0;
  pending: Ready | null = null;
  paused = false;
  buffered: Message[] = [];
  /** Client waiters on this process (lost when it crashes). */
  writes = new Map<string, (r: KvResult) => void>();
  reads = new Map<string, (value: string | undefined) => void>();
  readQueue: { index: number; ctx: string }[] = [];
  readonly tickPeriod: number;

  constructor(
    readonly id: string,
    readonly founding: boolean,
    tickPeriod: number,
  ) {
    this.tickPeriod = tickPeriod;
  }
}

/**
 * A whole Raft cluster on virtual time in one thread: every node is driven by the same loop the
 * production driver will run (send early messages, persist the Ready, restore, apply, send the
 * rest, advance), over a seeded faulty network, and the safety invariants are checked after every
 * event. Given the same seed and the same calls it replays exactly.
 */
export class RaftCluster {
  readonly nodes = new Map<string, SimNode>();
  readonly net: SimNetwork;
  readonly invariants = new RaftInvariants();
  readonly trace = new TraceRing(120);
  readonly random: Random;
  now = 0;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly diskRandom: Random;
  private readonly nodeRandom: Random;
  private readonly founders: string[];
  private readonly tunables: RaftTunablesInput;
  private readonly diskMaxDelay: number;
  private readonly fifo: boolean;
  /** With `fifo`: the latest delivery time planned on each directed link. */
  private readonly linkClock = new Map<string, number>();
  /** Crashed nodes whose in-flight messages died with them. */
  private readonly unsentFrom = new Set<string>();
  /** Called after every event (after the invariant checks); the nemesis reacts to what it sees. */
  readonly observers = new Set<() => void>();
  /** Optional observer of every applied write, for tests. */
  onApplied?: (node: string, id: string, result: KvResult) => void;

  constructor(opts: ClusterOptions) {
    const master = seededRandom(opts.seed);
    this.random = forkRandom(master);
    this.diskRandom = forkRandom(master);
    this.nodeRandom = forkRandom(master);
    const weather = opts.weather ?? { dropRate: 0, dupRate: 0, minDelay: 1, maxDelay: 3 };
    this.net = new SimNetwork(forkRandom(master), weather);
    this.tunables = opts.tunables ?? {};
    this.diskMaxDelay = opts.diskMaxDelay ?? 2;
    this.fifo = opts.fifo ?? false;
    const jitter = opts.tickJitter ?? 0;
    this.founders = Array.from({ length: opts.voters }, (_, i) => `n${i + 1}`);
    const total = opts.voters + (opts.spares ?? 0);
    for (let i = 1; i <= total; i++) {
      const id = `n${i}`;
      const period = TICK - jitter + this.random.int(2 * jitter + 1);
      this.nodes.set(id, new SimNode(id, i <= opts.voters, period));
    }
    for (const n of this.nodes.values()) this.boot(n);
  }

  /** Node by id (throws for unknown ids, which are test bugs). */
  node(id: string): SimNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** All node ids, founders first. */
  ids(): string[] {
    return [...this.nodes.keys()];
  }

  /** The running, unpaused leader with the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      const r = n.raft;
      if (!r || n.paused || r.role !== "leader") continue;
      if (!best || r.term > (best.raft?.term ?? 0)) best = n;
    }
    return best;
  }

  /** Schedules a callback after `delay` time units (nemesis and client actions). */
  schedule(delay: number, label: string, fn: () => void): void {
    this.queue.push(this.now + Math.max(0, delay), { k: "call", label, fn });
  }

  /** Runs events up to and including virtual time `until`, checking invariants after each. */
  runUntil(until: number): void {
    while (this.step(until));
    this.now = Math.max(this.now, until);
  }

  /** Runs event by event until `pred` holds or `maxTicks` pass; returns whether it held. */
  runUntilEvent(pred: () => boolean, maxTicks: number): boolean {
    const until = this.now + maxTicks * TICK;
    for (;;) {
      // Stops at the event that made `pred` true: time does not run on to `until`.
      if (pred()) return true;
      if (!this.step(until)) break;
    }
    this.now = Math.max(this.now, until);
    return pred();
  }

  /** Handles the next event if it is due by `until` (then checks invariants); false if none is. */
  private step(until: number): boolean {
    const t = this.queue.peekTime();
    if (t === undefined || t > until) return false;
    const ev = this.queue.pop();
    if (!ev) return false;
    this.now = ev.at;
    this.handle(ev.item);
    this.invariants.afterStep([...this.nodes.values()]);
    for (const o of this.observers) o();
    return true;
  }

  /** Runs for a number of ticks of virtual time. */
  runTicks(ticks: number): void {
    this.runUntil(this.now + ticks * TICK);
  }

  /** Runs until `pred` holds (checked after each tick of virtual time) or `maxTicks` pass; returns whether it held. */
  runUntilTrue(pred: () => boolean, maxTicks: number): boolean {
    for (let i = 0; i < maxTicks; i++) {
      if (pred()) return true;
      this.runTicks(1);
    }
    return pred();
  }

  private handle(ev: SimEvent): void {
    switch (ev.k) {
      case "tick": {
        const n = this.node(ev.node);
        if (ev.inc !== n.inc || !n.raft) return;
        this.queue.push(this.now + n.tickPeriod, ev);
        // A stopped process misses its ticks.
        if (n.paused) return;
        n.raft.tick();
        this.pump(n);
        return;
      }
      case "deliver":
        this.deliver(ev.msg);
        return;
      case "persist": {
        const n = this.node(ev.node);
        if (ev.inc !== n.inc || !n.raft) return;
        if (n.paused) {
          this.queue.push(this.now + TICK, ev);
          return;
        }
        this.finishReady(n, Number.POSITIVE_INFINITY);
        this.pump(n);
        return;
      }
      case "call":
        // Client calls are frequent and say little; their effects show up as messages.
        if (!ev.label.startsWith("client")) this.trace.add(this.now, `» ${ev.label}`);
        ev.fn();
        return;
    }
  }

  private deliver(m: Message): void {
    const n = this.nodes.get(m.to);
    if (!n?.raft) return;
    if (this.net.isBlocked(m.from, m.to)) return;
    if (this.unsentFrom.has(m.from) && !this.nodes.get(m.from)?.raft) return;
    if (n.paused) {
      n.buffered.push(m);
      return;
    }
    this.trace.addMessage(this.now, m);
    n.raft.step(m);
    this.pump(n);
  }

  /** Sends one message through the network. */
  transmit(m: Message): void {
    for (const d of this.net.plan(m.from, m.to)) {
      let at = this.now + d;
      if (this.fifo) {
        // Never before an earlier message on the same link (equal times keep queue order).
        const link = `${m.from}>${m.to}`;
        at = Math.max(at, this.linkClock.get(link) ?? 0);
        this.linkClock.set(link, at);
      }
      this.queue.push(at, { k: "deliver", msg: m });
    }
  }

  /** Drives one node: if idle and the core has work, take a Ready and start persisting it. */
  pump(n: SimNode): void {
    const r = n.raft;
    if (r) this.invariants.checkLeaderCommit(n, r, [...this.nodes.values()]);
    if (!r || n.paused || n.pending) return;
    const prevRole = r.role;
    const rd = r.ready();
    if (!rd) return;
    const first = rd.entries[0];
    if (first) this.invariants.onHanded(n.id, rd.entries, r.termAt(first.index - 1) ?? 0);
    if (rd.softState && rd.softState.role !== prevRole) {
      this.trace.add(this.now, `${n.id} is ${rd.softState.role} in term ${r.term}`);
    }
    for (const m of rd.messages) this.transmit(m);
    n.pending = rd;
    this.queue.push(this.now + this.diskRandom.int(this.diskMaxDelay + 1), {
      k: "persist",
      node: n.id,
      inc: n.inc,
    });
  }

  /**
   * The driver's second half: the Ready's writes become durable, then the state machine catches up,
   * then acknowledgements leave, then the core hears about it. `applyLimit` < ∞ models a crash part
   * way through applying (the writes and the first entries stay; nothing else happens).
   */
  private finishReady(n: SimNode, applyLimit: number): void {
    const rd = n.pending;
    const r = n.raft;
    if (!rd || !r) return;
    n.pending = null;
    n.store.save(persistBatch(rd));
    if (rd.restoreSnapshot && rd.snapshot) {
      if (applyLimit <= 0) return;
      n.sm.restore(rd.snapshot);
      this.invariants.onRestore(
        n.id,
        rd.snapshot.meta.index,
        rd.snapshot.meta.term,
        n.sm.fingerprint(),
        r.term,
      );
    }
    let applied = 0;
    for (const e of rd.committedEntries) {
      if (applied++ >= applyLimit) return;
      const out = n.sm.apply(e);
      this.invariants.onApply(n.id, e, n.sm.fingerprint(), r.term);
      if (out) {
        this.onApplied?.(n.id, out.id, out.result);
        const w = n.writes.get(out.id);
        if (w) {
          n.writes.delete(out.id);
          w(out.result);
        }
      }
    }
    if (applyLimit !== Number.POSITIVE_INFINITY) return;
    n.readQueue.push(...rd.readStates);
    this.serveReads(n);
    for (const m of rd.messagesAfterPersist) this.transmit(m);
    r.advance(rd);
    if (rd.wantSnapshot) r.compact(n.sm.applied, n.sm.snapshot());
  }

  private serveReads(n: SimNode): void {
    const keep: { index: number; ctx: string }[] = [];
    for (const rs of n.readQueue) {
      if (rs.index > n.sm.applied) {
        keep.push(rs);
        continue;
      }
      const cb = n.reads.get(rs.ctx);
      if (cb) {
        n.reads.delete(rs.ctx);
        cb(undefined);
      }
    }
    n.readQueue = keep;
  }

  private boot(n: SimNode): void {
    const st = n.store.load();
    // The driver's start-up duty: a crash between persisting a leader's snapshot and restoring it
    // leaves the state machine behind the log's start.
    if (st.snapshot && n.sm.applied < st.snapshot.meta.index) {
      n.sm.restore(st.snapshot);
      this.invariants.onRestore(n.id, st.snapshot.meta.index, st.snapshot.meta.term, n.sm.fingerprint(), 0);
    }
    const opts = {
      id: n.id,
      storage: st,
      applied: n.sm.applied,
      random: forkRandom(this.nodeRandom),
      ...this.tunables,
      ...(n.founding ? { bootstrap: this.founders } : {}),
    };
    n.raft = new RaftNode(opts);
    n.inc++;
    n.paused = false;
    n.buffered = [];
    this.invariants.onRestart(n.id, n.raft.commitIndex);
    this.queue.push(this.now + this.random.int(n.tickPeriod) + 1, { k: "tick", node: n.id, inc: n.inc });
    this.pump(n);
  }

  /**
   * Kills a process. Whatever the current Ready had not made durable is lost; with `midApply` the
   * Ready's writes did land and the crash hits part way through applying it. With `dropUnsent`,
   * messages it sent that have not arrived yet are lost too.
   */
  crash(id: string, midApply = false, dropUnsent = false): void {
    const n = this.node(id);
    if (!n.raft) return;
    if (midApply && n.pending) {
      this.finishReady(n, this.random.int(n.pending.committedEntries.length + 1));
    }
    this.trace.add(this.now, `CRASH ${id}${midApply ? " (mid-apply)" : ""}`);
    // Every crash is a power cut: writes that were not fsynced are lost.
    n.store.powerLoss();
    // Messages still in the dying process's socket buffers never leave it.
    if (dropUnsent) this.unsentFrom.add(id);
    n.raft = null;
    n.pending = null;
    n.paused = false;
    n.buffered = [];
    n.writes.clear();
    n.reads.clear();
    n.readQueue = [];
    n.inc++;
  }

  /** Restarts a crashed process from its disk. */
  restart(id: string): void {
    const n = this.node(id);
    if (n.raft) return;
    this.trace.add(this.now, `RESTART ${id}`);
    this.unsentFrom.delete(id);
    this.boot(n);
  }

  /** Stops a process (SIGSTOP): no ticks, messages queue up, disk writes wait. */
  pause(id: string): void {
    const n = this.node(id);
    if (!n.raft || n.paused) return;
    this.trace.add(this.now, `PAUSE ${id}`);
    n.paused = true;
  }

  /** Resumes a paused process; it then reads everything that queued up. */
  resume(id: string): void {
    const n = this.node(id);
    if (!n.raft || !n.paused) return;
    this.trace.add(this.now, `RESUME ${id}`);
    n.paused = false;
    const queued = n.buffered;
    n.buffered = [];
    for (const m of queued) this.queue.push(this.now, { k: "deliver", msg: m });
    this.pump(n);
  }

  /** Proposes a write through node `id`; `done` gets the result once that node applies it. */
  submitWrite(id: string, cmdId: string, data: string, done: (r: KvResult) => void): boolean {
    const n = this.node(id);
    if (!n.raft || n.paused) return false;
    const res = n.raft.propose(data);
    if (!res.ok) return false;
    n.writes.set(cmdId, done);
    this.pump(n);
    return true;
  }

  /** A linearizable read of `key` through node `id` (ReadIndex, then wait for apply). */
  submitRead(id: string, ctx: string, key: string, done: (value: string | undefined) => void): boolean {
    const n = this.node(id);
    if (!n.raft || n.paused) return false;
    if (!n.raft.readIndex(ctx)) return false;
    n.reads.set(ctx, () => done(n.sm.get(key)));
    this.pump(n);
    return true;
  }

  /** Restarts every crashed node, resumes every paused one and heals the network. */
  healAll(weather?: NetWeather): void {
    this.trace.add(this.now, "HEAL ALL");
    for (const n of this.nodes.values()) {
      if (!n.raft) this.restart(n.id);
      else if (n.paused) this.resume(n.id);
    }
    this.net.heal();
    if (weather) this.net.weather = weather;
  }
}
