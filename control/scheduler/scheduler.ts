import type { Clock, Logger, TimerHandle } from "../../shared";
import { type Consensus, eventsOf } from "../consensus";
import type { Dispatcher } from "../dispatch";
import type { StateDb } from "../store";
import { getStoredJob, listStoredJobs } from "../store";
import { toPlanJob } from "./job-plan";
import { DEFAULT_PLAN_OPTIONS, type PlanOptions, planJob } from "./plan";

/** The longest the scheduler sleeps without re-checking (bounds the effect of clock jumps). */
const MAX_SLEEP_MS = 30_000;

/**
 * The leader's scheduling loop: one timer for the earliest due slot across all jobs; on wake it
 * plans each due job from committed state (cursor = last started slot) and starts its slots in
 * order through the dispatcher. Only runs while this node leads.
 */
export class Scheduler {
  private readonly next = new Map<string, number>();
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
    this.next.clear();
    // Plan from the cursor, not from now: slots missed while no leader ran are handled by catch-up.
    for (const job of listStoredJobs(this.deps.state)) {
      const p = toPlanJob(job);
      if (p) this.next.set(job.spec.name, this.deps.clock.now());
    }
    this.deps.logger.info("scheduler started", { jobs: this.next.size });
    this.arm();
  }

  /** Stops firing at once (leadership lost or shutdown). */
  stop(): void {
    this.running = false;
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    this.next.clear();
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
    const job = getStoredJob(this.deps.state, name);
    const p = job ? toPlanJob(job) : null;
    if (!p) this.next.delete(name);
    // Wake now: fire() plans from committed state and finds nothing due if nothing is.
    else this.next.set(name, this.deps.clock.now());
    this.arm();
  }

  private arm(): void {
    if (!this.running) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const [name, t] of this.next) if (!this.busy.has(name) && t < earliest) earliest = t;
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
    for (const [name, t] of this.next) {
      if (t <= now && !this.busy.has(name)) void this.fire(name);
    }
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
              : await this.deps.dispatcher.run(name, slot.action === "run" ? "schedule" : "catchup", slot.at);
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
      else this.next.set(name, plan.next);
    } catch (e) {
      // Not leader any more, or shutting down: the next leader plans from committed state.
      this.deps.logger.warn("scheduling a job failed", { job: name, err: String(e) });
      this.next.set(name, this.deps.clock.now() + 1000);
    } finally {
      this.busy.delete(name);
      if (this.dirty.delete(name)) this.next.set(name, this.deps.clock.now());
      this.arm();
    }
  }
}

function missedNote(policy: string, unlisted: number): string {
  const more = unlisted > 0 ? ` (${unlisted} earlier missed slots are not listed)` : "";
  return `missed: no leader was scheduling at this time; catch-up policy "${policy}" did not run it${more}`;
}
