import {
  AppError,
  type Clock,
  type ControlParamsOf,
  type ControlResults,
  type OverviewJson,
  parseSchedule,
  type Schedule,
} from "../../shared";
import { coversJob, type Identity } from "../auth";
import type { Dispatcher } from "../dispatch";
import { type FireSource, fireGroupKey, fireHeatmap } from "../scheduler";
import {
  executionsPerHour,
  firingJobs,
  getExecution,
  jobStatusCounts,
  recentFailures,
  recentRuns,
  type StateDb,
} from "../store";

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** How long an overview is reused: the heatmap reads every firing job, which is not free at 100,000. */
const OVERVIEW_TTL_MS = 15_000;

/** Jobs read per page while building the heatmap; the event loop is yielded to between pages. */
const HEATMAP_PAGE = 5_000;

/** What the dashboard's methods need from the control node. */
export interface DashboardDeps {
  state: StateDb;
  clock: Clock;
  dispatcher: Dispatcher;
  /** Gives other requests a turn (between heatmap pages). */
  yieldTurn?: () => Promise<void>;
}

/**
 * The control-api methods behind the dashboard's overview, sparklines and live log tail. Reads
 * only, each on an index; the overview is cached per token prefix for a few seconds and refreshed
 * behind the cached answer.
 */
export class DashboardService {
  private readonly cache = new Map<string, { at: number; value: Promise<OverviewJson> }>();

  constructor(private readonly d: DashboardDeps) {}

  /** Counts by status, the last day's failures and executions per hour, and the next day's fires. */
  overview(who: Identity): Promise<OverviewJson> {
    const now = this.d.clock.now();
    const hit = this.cache.get(who.prefix);
    if (hit && now - hit.at < OVERVIEW_TTL_MS) return hit.value;
    const value = this.computeOverview(who.prefix, now);
    if (!hit) {
      // Concurrent first visits share one computation.
      this.cache.set(who.prefix, { at: now, value });
      value.catch(() => this.cache.delete(who.prefix));
      return value;
    }
    // Stale while revalidating: the older overview answers at once while the next one is computed
    // (the heatmap reads every firing job: about a second at 100,000), so only the first visit waits.
    hit.at = now;
    value.then(
      () => this.cache.set(who.prefix, { at: now, value }),
      () => {},
    );
    return hit.value;
  }

  /** Each named job's newest runs (those `who` covers; others are left out). */
  recent(p: ControlParamsOf<"dashboard.recent">, who: Identity): ControlResults["dashboard.recent"] {
    const out: ControlResults["dashboard.recent"] = {};
    for (const name of new Set(p.names)) {
      if (!coversJob(who, name)) continue;
      out[name] = recentRuns(this.d.state, name, p.n).map((r) => ({
        state: r.state,
        at: r.started_at,
        ms: r.finished_at === null ? null : Math.max(0, r.finished_at - r.started_at),
      }));
    }
    return out;
  }

  /** An execution's live output after `from`; once its result is committed, the final output. */
  tail(p: ControlParamsOf<"executions.tail">): ControlResults["executions.tail"] {
    const e = getExecution(this.d.state, p.job, p.id);
    if (!e)
      throw new AppError("NOT_FOUND", `execution "${p.id}" of job "${p.job}" not found`, {
        field: "execution",
      });
    if (e.state !== "running") {
      const output = e.output;
      return { offset: output.length, text: "", skipped: 0, running: false, state: e.state, output };
    }
    return { ...this.d.dispatcher.live.since(p.id, p.from), running: true, state: e.state };
  }

  private async computeOverview(prefix: string, now: number): Promise<OverviewJson> {
    const byStatus = { success: 0, failed: 0, partially_failed: 0, untriggered: 0 };
    let total = 0;
    let disabled = 0;
    for (const r of jobStatusCounts(this.d.state, prefix)) {
      total += r.n;
      if (r.disabled) disabled += r.n;
      const key = r.status === "" ? "untriggered" : r.status;
      if (key in byStatus) byStatus[key as keyof typeof byStatus] += r.n;
    }
    const since = now - DAY;
    const hours = new Map<number, { success: number; failed: number; other: number }>();
    const firstHour = Math.floor(since / HOUR) + 1;
    for (let h = firstHour; h <= Math.floor(now / HOUR); h++)
      hours.set(h, { success: 0, failed: 0, other: 0 });
    for (const r of executionsPerHour(this.d.state, firstHour * HOUR, prefix)) {
      const slot = hours.get(r.hour);
      if (!slot) continue;
      if (r.state === "success") slot.success += r.n;
      else if (r.state === "failed" || r.state === "lost") slot.failed += r.n;
      else slot.other += r.n;
    }
    const failures = recentFailures(this.d.state, since, 10, prefix);
    const from = Math.ceil(now / MINUTE) * MINUTE;
    const heat = await this.heatmap(prefix, from);
    return {
      at: new Date(now).toISOString(),
      jobs: { total, disabled, by_status: byStatus },
      running: this.d.dispatcher.busy().filter((e) => e.job_name.startsWith(prefix)).length,
      failures_24h: failures.total,
      recent_failures: failures.items.map((e) => ({
        job: e.job_name,
        id: e.id,
        state: e.state,
        node: e.node_name,
        finished_at: new Date(e.finished_at ?? e.started_at).toISOString(),
        exit_code: e.exit_code,
      })),
      per_hour: [...hours].map(([h, c]) => ({ at: new Date(h * HOUR).toISOString(), ...c })),
      heatmap: { from: new Date(from).toISOString(), minutes: heat.minutes, approximate: heat.approximate },
    };
  }

  /** Fires per minute of the next day: jobs grouped by how they fire, read a page at a time. */
  private async heatmap(prefix: string, from: number) {
    const until = from + DAY;
    const groups = new Map<string, FireSource>();
    const alone: FireSource[] = [];
    const parsed = new Map<string, Schedule | null>();
    let after = "";
    for (;;) {
      const page = firingJobs(this.d.state, until, after, HEATMAP_PAGE, prefix);
      for (const j of page) {
        const tz = j.timezone ?? "";
        const dst = j.dst ?? "auto";
        // `~` fields hash the job's name: only then does the name change the schedule.
        const key = `${j.schedule}|${tz}|${dst}${j.schedule.includes("~") ? `|${j.name}` : ""}`;
        let schedule = parsed.get(key);
        if (schedule === undefined) {
          schedule = parseOrNull(j.schedule, j.name, tz, dst);
          parsed.set(key, schedule);
        }
        if (!schedule) continue;
        const first = firstAtOrAfter(schedule, j, from);
        if (first === null) continue;
        const src: FireSource = { schedule, anchor: j.anchor, first, weight: 1 };
        const group = fireGroupKey(schedule, first, from);
        const known = group === null ? undefined : groups.get(group);
        if (known) known.weight++;
        else if (group === null) alone.push(src);
        else groups.set(group, src);
      }
      if (page.length < HEATMAP_PAGE) break;
      after = page[page.length - 1]!.name;
      await (this.d.yieldTurn ?? defaultYield)();
    }
    return fireHeatmap([...groups.values(), ...alone], from);
  }
}

/** The first fire at or after `from`: the stored next fire, or the schedule's next after it. */
function firstAtOrAfter(
  schedule: Schedule,
  j: { next_fire: number; anchor: number },
  from: number,
): number | null {
  return j.next_fire >= from ? j.next_fire : schedule.next(from - 1, j.anchor);
}

function parseOrNull(spec: string, jobName: string, timezone: string, dst: string): Schedule | null {
  try {
    const s = parseSchedule(spec, { jobName, timezone, dst });
    return s.kind === "manual" ? null : s;
  } catch {
    return null;
  }
}

const defaultYield = () => new Promise<void>((resolve) => setImmediate(resolve));
