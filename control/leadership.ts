import type { Clock } from "../shared";
import type { Consensus } from "./consensus";
import type { Runners } from "./hub";

/** What follows this node's leadership: the leader-only parts and how to reach its own runner. */
export interface LeadershipDeps {
  consensus: Pick<Consensus, "onLeadership">;
  dispatcher: { startLeading(): void; stopLeading(): void };
  scheduler: { start(): void; stop(): void; isRunning(): boolean };
  hub: { disconnectAll(reason: string): void };
  runners: Pick<Runners, "candidates">;
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
  let leading = false;
  return d.consensus.onLeadership((leader) => {
    leading = leader;
    if (leader) {
      d.dispatcher.startLeading();
      d.onGained?.();
      // Our own runner is the first the scheduler can use: connect it now, not at its next retry.
      d.localRunner?.reconnectNow();
      // Runners reconnect to a new leader within moments; firing before any is back would record
      // avoidable "no target" failures. Slots due meanwhile follow the catch-up policy.
      const deadline = d.clock.now() + d.runnerSettleMs;
      const startWhenSettled = () => {
        if (!leading || d.scheduler.isRunning()) return;
        if (d.runners.candidates().length > 0 || d.clock.now() >= deadline) d.scheduler.start();
        else d.clock.setTimeout(startWhenSettled, 20);
      };
      startWhenSettled();
    } else {
      // Stop at once: a deposed leader must not start another slot (apply would refuse it anyway).
      d.scheduler.stop();
      d.dispatcher.stopLeading();
      d.hub.disconnectAll("this node is no longer the leader");
    }
  });
}
