import type { Ack, Hello, Output, Result } from "../../shared";
import type { RunnerSession } from "./runner-sessions";

/**
 * What the hub reports about runners, in the order frames arrive; the dispatcher implements it and
 * the composition root hands it to the hub.
 */
export interface RunnerEvents {
  /** A runner said hello; returns the ids it holds that the leader does not know. */
  onHello(session: RunnerSession, hello: Hello): string[];
  /** A runner still holds these executions (hello, ping, ack, output all renew the lease). */
  onHeld(runner: string, ids: string[]): void;
  /** A run started on the runner (its ack, with when it started if the runner says). */
  onAck(runner: string, ack: Ack): void;
  /** A chunk of live output. */
  onOutput(runner: string, out: Output): void;
  /** An execution finished on the runner (live, or reported with a reconnecting hello). */
  onResult(runner: string, result: Result): void;
  /** A runner's connection closed. */
  onDisconnect(runner: string): void;
}
