import type { Candidate } from "../../shared";
import { type ControlMessage, encodeFrame } from "../../shared";

/** A connected runner. */
export interface RunnerSession {
  name: string;
  tags: Record<string, string>;
  addr: string;
  connectedAt: number;
  lastSeen: number;
  /** Most executions at once (the hello's `max_concurrent`); undefined: no limit. */
  maxConcurrent?: number;
  /** Executors it runs (the hello's `executors`); undefined: any. */
  executors?: string[];
  /**
   * It said it is draining (SIGTERM): still attached, so its running executions report, but never
   * a dispatch target again on this stream.
   */
  draining?: boolean;
}

/** A connected runner as a target of a run: its tags and, when it cannot take the run now, why. */
export interface ConnectedRunner extends Candidate {
  /** "draining", "no http executor", "at max_concurrent 2"; absent when it can take a run. */
  unavailable?: string;
}

/** The runners the dispatcher can target and send frames to (RunnerSessions; a fake in tests). */
export interface Runners {
  /**
   * Runners connected now and not draining, as target candidates; with `executor`, only those that
   * run it and have room for one more execution (below their `max_concurrent`).
   */
  candidates(executor?: string): Candidate[];
  /**
   * Every runner connected now; with `executor`, each that cannot take a run of it says why (what
   * a run with no target reports).
   */
  connected(executor?: string): ConnectedRunner[];
  /**
   * Holds one slot on each runner named (twice named: two) for a run planned on it and not sent
   * yet, so starts planned before the first is sent count it against `max_concurrent` and spread
   * over other runners. Returns the release, called once the runs are sent (sent ones count as
   * load from then on) or the start did not commit; calling it again does nothing.
   */
  reserve(runners: readonly string[]): () => void;
  /** Sessions connected now. */
  sessions(): RunnerSession[];
  /** Whether a runner is connected. */
  isConnected(name: string): boolean;
  /** Sends a frame to a runner; false when it is not connected. */
  send(runner: string, msg: ControlMessage): boolean;
}

/** The socket side of a session, as much of it as the registry needs. */
export interface SessionSocket {
  readonly readyState: number;
  readonly OPEN: number;
  send(data: string): void;
}

/**
 * The registry of connected runners: one session per runner name. The hub adds and removes
 * sessions as sockets come and go; the dispatcher reads and sends through it. Kept apart from the
 * hub so the two do not point at each other.
 */
export class RunnerSessions<S extends SessionSocket = SessionSocket> implements Runners {
  private readonly conns = new Map<string, { session: RunnerSession; socket: S }>();
  /** Executions sent to (or reported held by) each runner and not finished yet: its load. */
  private readonly inflight = new Map<string, Set<string>>();
  /** Slots held per runner for runs planned on it and not sent yet (see `reserve`). */
  private readonly reserved = new Map<string, number>();
  private readonly addedListeners = new Set<(session: RunnerSession) => void>();

  /** Registers a session, returning the one it replaces (same runner name), if any. */
  add(session: RunnerSession, socket: S): { session: RunnerSession; socket: S } | undefined {
    const old = this.conns.get(session.name);
    this.conns.set(session.name, { session, socket });
    for (const l of this.addedListeners) l(session);
    return old;
  }

  /** Calls `listener` each time a runner's session is registered; returns the unsubscribe. */
  onAdded(listener: (session: RunnerSession) => void): () => void {
    this.addedListeners.add(listener);
    return () => this.addedListeners.delete(listener);
  }

  /** Removes a runner's session if `socket` is still the one registered; true when removed. */
  remove(name: string, socket: S): boolean {
    if (this.conns.get(name)?.socket !== socket) return false;
    this.conns.delete(name);
    return true;
  }

  /** Every registered session with its socket. */
  entries(): { session: RunnerSession; socket: S }[] {
    return [...this.conns.values()];
  }

  /** Forgets every session (the caller closed their sockets). */
  clear(): void {
    this.conns.clear();
  }

  candidates(executor?: string): Candidate[] {
    return this.connected(executor).flatMap((c) => (c.unavailable ? [] : [{ name: c.name, tags: c.tags }]));
  }

  connected(executor?: string): ConnectedRunner[] {
    return [...this.conns.values()].map(({ session: s }) => {
      const why = this.unavailable(s, executor);
      return { name: s.name, tags: s.tags, ...(why ? { unavailable: why } : {}) };
    });
  }

  /** Why a runner cannot take a run (of `executor`, when given) now; undefined when it can. */
  private unavailable(s: RunnerSession, executor: string | undefined): string | undefined {
    if (s.draining) return "draining";
    if (executor === undefined) return undefined;
    if (s.executors !== undefined && !s.executors.includes(executor)) return `no ${executor} executor`;
    if (s.maxConcurrent !== undefined && this.load(s.name) >= s.maxConcurrent)
      return `at max_concurrent ${s.maxConcurrent}`;
    return undefined;
  }

  /** The runner said it is draining: it stays attached but is no target any more. */
  setDraining(name: string): void {
    const c = this.conns.get(name);
    if (c) c.session.draining = true;
  }

  /** Executions in flight on a runner, as far as this leader knows, and runs planned on it not sent yet. */
  load(name: string): number {
    return (this.inflight.get(name)?.size ?? 0) + (this.reserved.get(name) ?? 0);
  }

  reserve(runners: readonly string[]): () => void {
    for (const n of runners) this.reserved.set(n, (this.reserved.get(n) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      for (const n of runners) {
        const left = (this.reserved.get(n) ?? 0) - 1;
        if (left > 0) this.reserved.set(n, left);
        else this.reserved.delete(n);
      }
    };
  }

  /** The runner holds exactly these executions (its hello). */
  setHeld(name: string, ids: readonly string[]): void {
    this.inflight.set(name, new Set(ids));
  }

  /** An execution on a runner finished (its result arrived). */
  finished(name: string, id: string): void {
    this.inflight.get(name)?.delete(id);
  }

  sessions(): RunnerSession[] {
    return [...this.conns.values()].map((c) => ({ ...c.session }));
  }

  isConnected(name: string): boolean {
    return this.conns.has(name);
  }

  send(runner: string, msg: ControlMessage): boolean {
    const c = this.conns.get(runner);
    if (!c || c.socket.readyState !== c.socket.OPEN) return false;
    if (msg.type === "run") {
      const held = this.inflight.get(runner) ?? new Set<string>();
      held.add(msg.execution_id);
      this.inflight.set(runner, held);
    }
    c.socket.send(encodeFrame(msg));
    return true;
  }
}
