import type { Caller, Clock, ControlClient, Logger, TimerHandle } from "../../shared";
import type { Authenticator } from "./authenticator";

/** How often a node commits the token uses it has seen. */
export const TOKEN_USE_FLUSH_MS = 30_000;

/** The caller a node's own flush travels as (accepted from peers only with the service secret). */
const NODE_CALLER: Caller = { client: "", internal: true };

/**
 * Commits the tokens' last-used times every `TOKEN_USE_FLUSH_MS` in one entry (through the leader,
 * from whichever node saw the uses), so a request never costs a Raft write for bookkeeping.
 */
export class TokenUseFlusher {
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(
    private readonly d: {
      auth: Authenticator;
      control: ControlClient;
      clock: Clock;
      logger: Logger;
      everyMs?: number;
    },
  ) {}

  /** Starts flushing periodically. */
  start(): void {
    this.running = true;
    this.arm();
  }

  /** Stops flushing (uses not yet flushed are lost: last-used is advisory). */
  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.d.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Commits the uses seen so far; on failure they are kept for the next try. */
  async flush(): Promise<void> {
    const uses = this.d.auth.takeUses();
    if (!uses.length) return;
    try {
      await this.d.control.call("tokens.touch", { uses }, NODE_CALLER);
    } catch (e) {
      this.d.auth.returnUses(uses);
      this.d.logger.debug("token uses not recorded yet", { err: (e as Error).message });
    }
  }

  private arm(): void {
    if (!this.running) return;
    this.timer = this.d.clock.setTimeout(() => {
      void this.flush().finally(() => this.arm());
    }, this.d.everyMs ?? TOKEN_USE_FLUSH_MS);
  }
}
