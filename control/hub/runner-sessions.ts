import type { Candidate } from "../../shared";
import { type ControlMessage, encodeFrame } from "../../shared";

/** A connected runner. */
export interface RunnerSession {
  name: string;
  tags: Record<string, string>;
  addr: string;
  connectedAt: number;
  lastSeen: number;
}

/** The runners the dispatcher can target and send frames to (RunnerSessions; a fake in tests). */
export interface Runners {
  /** Runners connected now, as target candidates. */
  candidates(): Candidate[];
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

  candidates(): Candidate[] {
    return [...this.conns.values()].map((c) => ({ name: c.session.name, tags: c.session.tags }));
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
    c.socket.send(encodeFrame(msg));
    return true;
  }
}
