import type { Clock, TimerHandle } from "../../shared";

/** One runner-reported start: the execution and when its process or request started. */
export interface StartReport {
  id: string;
  startedAt: number;
}

/**
 * Starts runners reported in their acks, waiting to be committed. They are batched: the first one
 * arms a timer of `flushMs`, and everything reported by then goes in one `executions.started`
 * entry. A run that finishes sooner is dropped from the batch, since its finish carries its start,
 * so short runs cost no Raft write beyond their start and finish; long ones show their start
 * within `flushMs`, one entry shared by all of them. Until committed, the start is readable here.
 */
export class StartReports {
  private readonly pending = new Map<string, number>();
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly flushMs: number,
    private readonly flush: (starts: StartReport[]) => void,
  ) {}

  /** Queues a start; the first report of an execution counts. */
  report(id: string, startedAt: number): void {
    if (this.pending.has(id)) return;
    this.pending.set(id, startedAt);
    this.timer ??= this.clock.setTimeout(() => this.flushNow(), this.flushMs);
  }

  /** The start reported for `id` that is not committed yet, if any. */
  get(id: string): number | undefined {
    return this.pending.get(id);
  }

  /** Forgets a start its finish records instead. */
  drop(id: string): void {
    this.pending.delete(id);
  }

  /** Hands every queued start to `flush` now. */
  flushNow(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending.size) return;
    const starts = [...this.pending].map(([id, startedAt]) => ({ id, startedAt }));
    this.pending.clear();
    this.flush(starts);
  }

  /** Forgets everything queued (leadership lost: each result still carries its start). */
  clear(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
