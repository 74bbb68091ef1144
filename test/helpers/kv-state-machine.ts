import type { Entry, Snapshot } from "../../control/raft/messages";

/** A write as it travels through the log; `id` makes re-delivered proposals apply once. */
export interface KvCommand {
  id: string;
  op: "put" | "cas";
  key: string;
  value: string;
  expected?: string;
}

/** Result of a write: put always succeeds, cas only if the key held `expected`. */
export interface KvResult {
  ok: boolean;
}

/** Thrown when the state machine is asked to apply out of order or to go backwards. */
export class ApplyOrderError extends Error {
  override name = "ApplyOrderError";
}

/**
 * The simulation's replicated state machine: a small key-value map plus a session table of applied
 * command ids (Raft thesis §6.3), so a proposal duplicated by the network applies once. It is
 * "durable": it survives a simulated crash, as the real state tables do, with `applied` updated in
 * the same step as the data, so replay after a restart must start exactly at applied + 1.
 */
export class KvStateMachine {
  applied = 0;
  private kv = new Map<string, string>();
  private done = new Map<string, KvResult>();

  /** Applies the next entry; returns the command id and its result for a write, else null. */
  apply(e: Entry): { id: string; result: KvResult } | null {
    if (e.index !== this.applied + 1) {
      throw new ApplyOrderError(`apply of index ${e.index} after ${this.applied}`);
    }
    this.applied = e.index;
    if (e.type !== "normal" || e.data === "") return null;
    const cmd = JSON.parse(e.data) as KvCommand;
    const seen = this.done.get(cmd.id);
    if (seen) return { id: cmd.id, result: seen };
    let result: KvResult;
    if (cmd.op === "put") {
      this.kv.set(cmd.key, cmd.value);
      result = { ok: true };
    } else {
      const ok = this.kv.get(cmd.key) === cmd.expected;
      if (ok) this.kv.set(cmd.key, cmd.value);
      result = { ok };
    }
    this.done.set(cmd.id, result);
    return { id: cmd.id, result };
  }

  /** Reads a key (callers wait for ReadIndex first). */
  get(key: string): string | undefined {
    return this.kv.get(key);
  }

  /** Serialises the whole state, session table included. */
  snapshot(): string {
    return JSON.stringify({ applied: this.applied, kv: [...this.kv], done: [...this.done] });
  }

  /** Replaces the state with a snapshot; it must be ahead of what is applied. */
  restore(snap: Snapshot): void {
    if (snap.meta.index <= this.applied) {
      throw new ApplyOrderError(`restore to ${snap.meta.index} with ${this.applied} already applied`);
    }
    const s = JSON.parse(snap.data) as {
      applied: number;
      kv: [string, string][];
      done: [string, KvResult][];
    };
    if (s.applied !== snap.meta.index) throw new ApplyOrderError("snapshot data and metadata disagree");
    this.applied = s.applied;
    this.kv = new Map(s.kv);
    this.done = new Map(s.done);
  }

  /** A canonical string of the data (not the session table), to compare replicas at equal indexes. */
  fingerprint(): string {
    return [...this.kv]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
  }
}
