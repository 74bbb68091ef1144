import type { Random } from "../../control/raft/random";
import type { KvInput, KvOutput, Operation } from "../lincheck";
import type { KvCommand } from "./kv-state-machine";
import { type RaftCluster, TICK } from "./raft-cluster";

/** How the simulated clients behave. */
export interface WorkloadOptions {
  clients: number;
  keys: string[];
  /** A client gives up on an op after this many ticks and records its outcome as unknown. */
  opTimeoutTicks: number;
  /** Upper bound of the pause between a client's ops, in ticks. */
  thinkTicks: number;
}

/** Counts of what the clients saw. */
export interface WorkloadStats {
  ok: number;
  unknown: number;
  rejected: number;
}

/**
 * Closed-loop clients (one op outstanding each) issuing put/cas/get against random nodes, recording
 * every op's invocation, completion and output as a history for the linearizability checker. An op
 * rejected before it was proposed (no leader known) is left out: it certainly had no effect. An op
 * that times out, or whose node crashed, is recorded with output null and return Infinity.
 */
export class KvWorkload {
  readonly history: Operation<KvInput, KvOutput>[] = [];
  readonly stats: WorkloadStats = { ok: 0, unknown: 0, rejected: 0 };
  private stopped = false;
  private seq = 0;
  /** Values seen per key, so cas sometimes expects the right one. */
  private seen = new Map<string, string | undefined>();
  private readonly pending = new Set<Operation<KvInput, KvOutput>>();

  constructor(
    private readonly cluster: RaftCluster,
    private readonly random: Random,
    private readonly opts: WorkloadOptions,
  ) {}

  /** Starts every client. */
  start(): void {
    for (let c = 0; c < this.opts.clients; c++) this.next(c);
  }

  /** No client starts a new op after this. */
  stop(): void {
    this.stopped = true;
  }

  /** Whether any op is still waiting for its outcome. */
  busy(): boolean {
    return this.pending.size > 0;
  }

  /** Marks ops still outstanding as unknown (end of the run). */
  finish(): void {
    this.stats.unknown += this.pending.size;
    this.pending.clear();
    this.stopped = true;
  }

  private next(client: number): void {
    if (this.stopped) return;
    this.cluster.schedule(this.random.int(this.opts.thinkTicks * TICK + 1), `client ${client}`, () =>
      this.issue(client),
    );
  }

  private pick<T>(xs: readonly T[]): T {
    const x = xs[this.random.int(xs.length)];
    if (x === undefined) throw new Error("empty choice");
    return x;
  }

  private issue(client: number): void {
    if (this.stopped) return;
    const node = this.pick(this.cluster.ids());
    const key = this.pick(this.opts.keys);
    const n = ++this.seq;
    const roll = this.random.next();
    const now = this.cluster.now;
    let input: KvInput;
    let op: Operation<KvInput, KvOutput>;
    let accepted: boolean;
    const settle = (output: KvOutput) => {
      if (!this.pending.delete(op)) return;
      op.return = this.cluster.now;
      op.output = output;
      this.stats.ok++;
      if (output.value !== undefined) this.seen.set(key, output.value);
      this.next(client);
    };
    if (roll < 0.4) {
      input = { op: "get", key };
      op = { clientId: client, input, call: now, return: Number.POSITIVE_INFINITY, output: null };
      accepted = this.cluster.submitRead(node, `r${client}.${n}`, key, (value) =>
        settle(value === undefined ? { ok: true } : { ok: true, value }),
      );
    } else {
      const value = `${client}.${n}`;
      const cas = roll < 0.6;
      input = cas ? { op: "cas", key, value, expected: this.seen.get(key) } : { op: "put", key, value };
      const cmd: KvCommand = { id: `c${client}.${n}`, op: cas ? "cas" : "put", key, value };
      if (cas && input.expected !== undefined) cmd.expected = input.expected;
      op = { clientId: client, input, call: now, return: Number.POSITIVE_INFINITY, output: null };
      accepted = this.cluster.submitWrite(node, cmd.id, JSON.stringify(cmd), (r) => {
        if (r.ok) this.seen.set(key, value);
        settle({ ok: r.ok });
      });
    }
    if (!accepted) {
      this.stats.rejected++;
      this.next(client);
      return;
    }
    this.history.push(op);
    this.pending.add(op);
    this.cluster.schedule(this.opts.opTimeoutTicks * TICK, `client ${client} timeout`, () => {
      if (!this.pending.delete(op)) return;
      this.stats.unknown++;
      this.next(client);
    });
  }
}
