import type { Clock, Logger, TimerHandle } from "../../shared";
import { type Consensus, eventsOf } from "../consensus";
import type { Dispatcher } from "../dispatch";
import type { StateDb } from "../store";
import { getJobRow, getStoredJob, jobsWaking } from "../store";
import { DueHeap } from "./due-heap";
import { toPlanJob } from "./job-plan";
import { DEFAULT_PLAN_OPTIONS, type PlanOptions, planJob } from "./plan";

/** The longest the scheduler sleeps without re-checking (bounds the effect of clock jumps). */
const MAX_SLEEP_MS = 30_000;
/**
 * How far ahead jobs are loaded from the wake_at index. Loaded again once less than half of it is
 * left, and the loop never sleeps longer than half, so no job falls due before it is loaded.
 */
const HORIZON_MS = 2 * MAX_SLEEP_MS;

/**
 * The leader's scheduling loop over a due-time index: it holds only the jobs due within the horizon
 * (loaded from the jobs table's wake_at index, which apply keeps), in a min-heap, and one timer for
 * the earliest. On wake it plans each due job from committed state (cursor = last started slot) and
 * starts its slots in order through the dispatcher. Memory and per-tick work follow the jobs due soon,
 * not all jobs. Only runs while this node leads.
 */
export class Scheduler {
  /** When each job held in memory is to be planned next (the heap's entries that match are live). */
  private readonly next = new Map<string, number>();
  private readonly heap = new DueHeap();
  /** Jobs with wake_at at or before this are loaded (or were planned since). */
  private loadedUntil = Number.NEGATIVE_INFINITY;
  private readonly busy = new Set<string>();
  /** Jobs that changed while being fired: planned again right after. */
  private readonly dirty = new Set<string>();
  private timer: TimerHandle | undefined;
  private armedFor = Number.POSITIVE_INFINITY;
  private running = false;
  /** When this scheduler started: slots before it were missed by whoever led then. */
  private since = 0;

  constructor(
    private readonly deps: {
      state: StateDb;
      clock: Clock;
      logger: Logger;
      dispatcher: Dispatcher;
      consensus: Consensus;
    },
    private readonly opts: PlanOptions = DEFAULT_PLAN_OPTIONS,
  ) {
    deps.consensus.onApplied((entry) => {
      if (!this.running) return;
      for (const ev of eventsOf(entry)) {
        if (ev.kind === "job.changed" || ev.kind === "job.deleted") this.refresh(ev.name);
      }
    });
  }

  /** Rebuilds the schedule from committed state and starts firing. */
  start(): void {
    this.running = true;
    this.since = this.deps.clock.now();
    this.clearDue();
    // Plan from the cursor, not from now: every job with a slot (or DST skip) due since its cursor,
    // missed while no leader ran, is loaded as due now and handled by catch-up.
    this.load(this.deps.clock.now());
    this.deps.logger.info("scheduler started", { due: this.next.size });
    this.arm();
  }

  /** Stops firing at once (leadership lost or shutdown). */
  stop(): void {
    this.running = false;
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    this.clearDue();
  }

  /** How many jobs the scheduler holds in memory: those due within its horizon (for tests and metrics). */
  held(): number {
    return this.next.size;
  }

  /** Whether the loop is running. */
  isRunning(): boolean {
    return this.running;
  }

  /** Re-reads one job after it changed; the next wake plans it. */
  refresh(name: string): void {
    if (this.busy.has(name)) {
      this.dirty.add(name);
      return;
    }
    // The row's wake_at is what apply computed from the committed spec and cursor: null when the job
    // never fires on its own (deleted, disabled, @manually, a child, expired).
    const at = getJobRow(this.deps.state, name)?.wakeAt ?? null;
    if (at === null || at > this.loadedUntil) this.next.delete(name);
    else this.setDue(name, at);
    this.arm();
  }

  /** Loads the jobs whose wake_at entered the horizon since the last load; held ones keep their time. */
  private load(now: number): void {
    const until = now + HORIZON_MS;
    if (until <= this.loadedUntil) return;
    const after = Number.isFinite(this.loadedUntil) ? this.loadedUntil : Number.MIN_SAFE_INTEGER;
    for (const { name, at } of jobsWaking(this.deps.state, after, until)) {
      if (!this.next.has(name) && !this.busy.has(name)) this.setDue(name, at);
    }
    this.loadedUntil = until;
  }

  private setDue(name: string, at: number): void {
    if (this.next.get(name) === at) return;
    this.next.set(name, at);
    this.heap.push({ at, name });
    // Lazy deletion leaves stale entries behind; rebuild once they outnumber the live ones.
    if (this.heap.size > 2 * this.next.size + 1024) {
      this.heap.reset([...this.next].map(([n, t]) => ({ at: t, name: n })));
    }
  }

  private clearDue(): void {
    this.next.clear();
    this.heap.reset();
    this.loadedUntil = Number.NEGATIVE_INFINITY;
  }

  /** The earliest live heap entry (stale ones dropped on the way), or undefined. */
  private peekDue(): { at: number; name: string } | undefined {
    for (let d = this.heap.peek(); d; d = this.heap.peek()) {
      if (this.next.get(d.name) === d.at) return d;
      this.heap.pop();
    }
    return undefined;
  }

  private arm(): void {
    if (!this.running) return;
    const earliest = this.peekDue()?.at ?? Number.POSITIVE_INFINITY;
    const now = this.deps.clock.now();
    const wake = Math.min(earliest, now + MAX_SLEEP_MS);
    if (this.timer && wake >= this.armedFor) return;
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    this.armedFor = wake;
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      this.armedFor = Number.POSITIVE_INFINITY;
      this.tick();
    }, wake - now);
  }

  private tick(): void {
    if (!this.running) return;
    const now = this.deps.clock.now();
    if (now + HORIZON_MS / 2 > this.loadedUntil) this.load(now);
    // Every job due now proposes its first slot synchronously inside fire(): held and proposed as
    // one entry when the loop ends (one write, one parse, one apply for a burst of a thousand).
    this.deps.dispatcher.batchStarts(() => {
      for (let d = this.peekDue(); d && d.at <= now; d = this.peekDue()) {
        this.heap.pop();
        this.next.delete(d.name);
        // A job being fired sets its next time when that run of fire() ends.
        if (!this.busy.has(d.name)) void this.fire(d.name);
      }
    });
    this.arm();
  }

  private async fire(name: string): Promise<void> {
    this.busy.add(name);
    try {
      const job = getStoredJob(this.deps.state, name);
      const p = job ? toPlanJob(job) : null;
      if (!p) {
        this.next.delete(name);
        return;
      }
      const now = this.deps.clock.now();
      const plan = planJob(p, now, this.since, this.opts);
      for (const [i, slot] of plan.slots.entries()) {
        if (!this.running) return;
        const res =
          slot.action === "missed"
            ? await this.deps.dispatcher.recordMissed(
                name,
                slot.at,
                missedNote(p.catchup, i === 0 ? plan.unlisted : 0),
              )
            : slot.action === "skipped-dst"
              ? await this.deps.dispatcher.recordMissed(name, slot.at, slot.note ?? "", "skipped-dst")
              : await this.deps.dispatcher.run(
                  name,
                  slot.action === "run" ? "schedule" : "catchup",
                  slot.at,
                  undefined,
                  {},
                  // Read above in this turn for the first slot (a later one reads it again: a
                  // start may have changed it, e.g. an ephemeral job deleted by its run).
                  i === 0 ? job : undefined,
                );
        if (res.ok && "skipped" in res.value && res.value.skipped === "concurrency") {
          this.deps.logger.debug("slot skipped: the previous run is still going (concurrency forbid)", {
            job: name,
            slot: new Date(slot.at).toISOString(),
          });
        }
        if (!res.ok && res.error.code !== "CONFLICT") {
          this.deps.logger.warn("could not start slot", {
            job: name,
            slot: new Date(slot.at).toISOString(),
            error: res.error.message,
          });
        }
      }
      if (plan.next === null) this.next.delete(name);
      else if (plan.next <= this.loadedUntil || getJobRow(this.deps.state, name)?.wakeAt !== plan.next) {
        // Within the horizon, or the committed wake_at disagrees (a slot that could not start is
        // still owed there): kept in memory. Otherwise the index loads it again when it is due soon.
        this.setDue(name, plan.next);
      } else this.next.delete(name);
    } catch (e) {
      // Not leader any more, or shutting down: the next leader plans from committed state.
      this.deps.logger.warn("scheduling a job failed", { job: name, err: String(e) });
      this.setDue(name, this.deps.clock.now() + 1000);
    } finally {
      this.busy.delete(name);
      if (this.dirty.delete(name)) this.setDue(name, this.deps.clock.now());
      this.arm();
    }
  }
}

function missedNote(policy: string, unlisted: number): string {
  const more = unlisted > 0 ? ` (${unlisted} earlier missed slots are not listed)` : "";
  return `missed: no leader was scheduling at this time; catch-up policy "${policy}" did not run it${more}`;
}
