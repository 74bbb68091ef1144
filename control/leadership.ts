import type { Clock, TimerHandle } from "../shared";
import type { Consensus } from "./consensus";
import type { Runners } from "./hub";

/** What follows this node's leadership: the leader-only parts and how to reach its own runner. */
export interface LeadershipDeps {
  consensus: Pick<Consensus, "onLeadership">;
  dispatcher: { startLeading(): void; stopLeading(): void };
  scheduler: { start(): void; stop(): void; isRunning(): boolean };
  hub: { disconnectAll(reason: string): void };
  runners: Pick<Runners, "candidates"> & { onAdded(listener: () => void): () => void };
  /** This node's own runner, if it runs one. */
  localRunner?: { reconnectNow(): void };
  /** Also run on gaining leadership (the leader replicates peer addresses it learned). */
  onGained?: () => void;
  clock: Clock;
  /** How long a new leader waits for a runner before it starts scheduling anyway. */
  runnerSettleMs: number;
}

/**
 * Starts the leader-only parts when this node gains leadership and stops them at once when it loses
 * it. Returns the unsubscribe.
 */
export function followLeadership(d: LeadershipDeps): () => void {
  /** Undoes the wait for a first runner of the current term, if one is pending. */
  let stopWaiting = () => {};
  return d.consensus.onLeadership((leader) => {
    stopWaiting();
    if (leader) {
      d.dispatcher.startLeading();
      d.onGained?.();
      // Our own runner is the first the scheduler can use: connect it now, not at its next retry.
      d.localRunner?.reconnectNow();
      // Runners reconnect to a new leader within moments; firing before any is back would record
      // avoidable "no target" failures. So the scheduler starts when the first runner is back, or
      // after runnerSettleMs at the latest; slots due meanwhile follow the catch-up policy.
      if (d.runners.candidates().length > 0) d.scheduler.start();
      else stopWaiting = waitForRunner(d);
    } else {
      // Stop at once: a deposed leader must not start another slot (apply would refuse it anyway).
      d.scheduler.stop();
      d.dispatcher.stopLeading();
      d.hub.disconnectAll("this node is no longer the leader");
    }
  });
}

/** Starts the scheduler at the first runner to connect or at the settle deadline; returns the cancel. */
function waitForRunner(d: LeadershipDeps): () => void {
  let timer: TimerHandle | undefined;
  let unsubscribe = () => {};
  const cancel = () => {
    if (timer !== undefined) d.clock.clearTimeout(timer);
    timer = undefined;
    unsubscribe();
  };
  const start = () => {
    cancel();
    if (!d.scheduler.isRunning()) d.scheduler.start();
  };
  unsubscribe = d.runners.onAdded(start);
  timer = d.clock.setTimeout(start, d.runnerSettleMs);
  return cancel;
}
