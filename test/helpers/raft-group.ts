import { join } from "node:path";
import { RaftConsensus } from "../../control/consensus/raft-consensus";
import type { Message } from "../../control/raft/messages";
import { seededRandom } from "../../control/raft/random";
import { openStateDb, type StateDb } from "../../control/store/db";
import { SqliteLogStore } from "../../control/store/raft-log-store";
import { type Logger, silentLogger } from "../../shared/logger";
import { FakeClock } from "./fake-clock";

/** Milliseconds per Raft tick in the group (election timeout = 10 ticks). */
export const GROUP_TICK_MS = 10;

/** One node of the group: its RaftConsensus over its own state.db and raft.db. */
export interface GroupNode {
  id: string;
  state: StateDb;
  log: SqliteLogStore;
  raft: RaftConsensus;
}

/**
 * Several RaftConsensus nodes in one process on real SQLite files, on one virtual clock: what a node
 * sends is delivered to the others' `receive` on the next event-loop turn, unless a cut drops it.
 * Nodes can be stopped and opened again on their files (a restart).
 */
export class RaftGroup {
  readonly clock = new FakeClock();
  readonly nodes = new Map<string, GroupNode>();
  private readonly inFlight: Message[] = [];
  private delivering = false;
  private drop: (m: Message) => boolean = () => false;

  constructor(
    readonly ids: string[],
    private readonly dir: string,
    private readonly opts: { logger?: Logger; beforeStart?: (n: GroupNode) => void } = {},
  ) {}

  /** Opens and starts every node, then has the first campaign; resolves once it leads and all follow. */
  async start(): Promise<void> {
    for (const id of this.ids) await this.open(id);
    const first = this.node(this.ids[0]!);
    first.raft.campaign();
    await this.until(() => first.raft.isLeader() && this.allFollow(first.id), "the first node to lead");
  }

  /** Opens a node on its files (as a restart does) and starts it; `beforeStart` runs before it starts. */
  async open(id: string, beforeStart?: (n: GroupNode) => void): Promise<GroupNode> {
    const state = openStateDb(join(this.dir, `${id}-state.db`), { synchronous: "NORMAL" });
    const log = SqliteLogStore.open(join(this.dir, `${id}-raft.db`));
    const raft = new RaftConsensus({
      id,
      state,
      log,
      send: (msgs) => this.send(msgs),
      clock: this.clock,
      logger: (this.opts.logger ?? silentLogger).child({ node: id }),
      random: seededRandom(id.charCodeAt(id.length - 1)),
      tickMs: GROUP_TICK_MS,
      tunables: { electionTicks: 10, heartbeatTicks: 1 },
      bootstrap: this.ids,
    });
    const n = { id, state, log, raft };
    this.nodes.set(id, n);
    this.opts.beforeStart?.(n);
    beforeStart?.(n);
    await raft.start();
    return n;
  }

  /** Stops a node and closes its files; messages to it are dropped until it is opened again. */
  async stopNode(id: string): Promise<void> {
    const n = this.node(id);
    this.nodes.delete(id);
    await n.raft.stop();
    n.log.close();
    n.state.close();
  }

  node(id: string): GroupNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no running node ${id}`);
    return n;
  }

  /** The node that leads now, if one does. */
  leader(): GroupNode | undefined {
    return [...this.nodes.values()].find((n) => n.raft.isLeader());
  }

  /** Whether every running node follows `id`. */
  allFollow(id: string): boolean {
    return [...this.nodes.values()].every((n) => n.raft.status().leader === id);
  }

  /** Drops every message (sent or in flight) for which `drop` holds, until `heal`. */
  cut(drop: (m: Message) => boolean): void {
    this.drop = drop;
  }

  /** Cuts `id` off from every other node, both ways. */
  isolate(id: string): void {
    this.cut((m) => m.from === id || m.to === id);
  }

  heal(): void {
    this.drop = () => false;
  }

  /** Lets messages, drains and applies run without moving time. */
  async settle(rounds = 30): Promise<void> {
    for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
  }

  /** Settles and moves virtual time a tick at a time for `ms`. */
  async run(ms: number): Promise<void> {
    for (let waited = 0; waited < ms; waited += GROUP_TICK_MS) {
      await this.settle();
      this.clock.advance(GROUP_TICK_MS);
    }
    await this.settle();
  }

  /** Settles and moves virtual time a tick at a time until `cond` holds; throws after `maxMs`. */
  async until(cond: () => boolean, what: string, maxMs = 10_000): Promise<void> {
    for (let waited = 0; ; waited += GROUP_TICK_MS) {
      await this.settle();
      if (cond()) return;
      if (waited >= maxMs) throw new Error(`timed out after ${maxMs} virtual ms waiting for ${what}`);
      this.clock.advance(GROUP_TICK_MS);
    }
  }

  /** Stops every node. */
  async close(): Promise<void> {
    for (const id of [...this.nodes.keys()]) await this.stopNode(id);
  }

  private send(msgs: Message[]): void {
    for (const m of msgs) if (!this.drop(m)) this.inFlight.push(m);
    if (this.delivering || !this.inFlight.length) return;
    this.delivering = true;
    setImmediate(() => {
      this.delivering = false;
      for (const m of this.inFlight.splice(0)) {
        // A cut made after the send drops what was still on the wire.
        if (!this.drop(m)) this.nodes.get(m.to)?.raft.receive([m]);
      }
    });
  }
}
