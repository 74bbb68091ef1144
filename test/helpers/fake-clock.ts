import type { Clock, TimerHandle } from "../../shared/clock";

/** A virtual clock: time moves only when a test calls advance/runUntil; timers fire in time order. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void; seq: number }>();

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn, seq: id });
    return id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as unknown as number);
  }

  /** Number of pending timers. */
  pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by ms, firing due timers in order (timers set while firing also run if due). */
  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      let next: { id: number; at: number; seq: number; fn: () => void } | undefined;
      for (const [id, tm] of this.timers) {
        if (tm.at <= target && (!next || tm.at < next.at || (tm.at === next.at && tm.seq < next.seq))) {
          next = { id, ...tm };
        }
      }
      if (!next) break;
      this.timers.delete(next.id);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = target;
  }

  /** Advances in steps, awaiting microtasks between steps so async code driven by timers progresses. */
  async advanceAsync(ms: number, stepMs = 10): Promise<void> {
    const target = this.t + ms;
    while (this.t < target) {
      this.advance(Math.min(stepMs, target - this.t));
      for (let i = 0; i < 20; i++) await Promise.resolve();
      await new Promise((r) => setImmediate(r));
    }
  }
}
