import type { Schedule } from "../../shared";

const MINUTE = 60_000;

/** Jobs that fire alike: one schedule, the first fire after `from`, and how many jobs share both. */
export interface FireSource {
  schedule: Schedule;
  /** The jobs' anchor (@every counts its slots from it). */
  anchor: number;
  /** The first fire at or after the heatmap's start (the jobs' next_fire). */
  first: number;
  /** How many jobs this source stands for. */
  weight: number;
}

/** Fires per minute over a window, and whether some counts were extrapolated. */
export interface Heatmap {
  minutes: number[];
  approximate: boolean;
}

/** How many fires one source is walked for before its rate is extrapolated (an every-second cron). */
export const MAX_WALK = 20_000;

/**
 * Counts scheduled fires per minute over `count` minutes from `from` (a minute boundary). Pure: the
 * caller groups jobs that fire alike (same cron expression and zone; @every jobs of one interval and
 * phase) so 100,000 jobs cost a few thousand walks. A source firing more than MAX_WALK times in the
 * window is walked that far and its observed per-minute rate carried to the end (`approximate`).
 */
export function fireHeatmap(sources: Iterable<FireSource>, from: number, count = 1440): Heatmap {
  const minutes = new Array<number>(count).fill(0);
  const end = from + count * MINUTE;
  let approximate = false;
  for (const s of sources) {
    let at = s.first;
    let walked = 0;
    while (at < end) {
      if (at >= from) minutes[Math.floor((at - from) / MINUTE)]! += s.weight;
      walked++;
      const next = s.schedule.next(at, s.anchor);
      if (next === null || next <= at) break;
      // Past the walk's budget, at a minute boundary: the rest of the window gets the rate so far.
      const minute = Math.floor((next - from) / MINUTE);
      if (walked >= MAX_WALK && minute > Math.floor((at - from) / MINUTE) && next < end) {
        approximate = true;
        const span = Math.max(1, minute - Math.floor((Math.max(from, s.first) - from) / MINUTE));
        for (let m = minute; m < count; m++) minutes[m]! += (walked / span) * s.weight;
        break;
      }
      at = next;
    }
  }
  return { minutes, approximate };
}

/**
 * The key under which jobs fire alike, or null when a job must be walked alone: a cron schedule by
 * its expression, zone and DST rule; an @every one by its interval and the minute phase of its next
 * fire (so their fires land in the same minutes).
 */
export function fireGroupKey(schedule: Schedule, first: number, from: number): string | null {
  if (schedule.kind === "every") {
    const interval = schedule.next(0, 0);
    if (interval === null) return null;
    // Below a minute every minute gets about MINUTE / interval fires, whatever the phase.
    if (interval < MINUTE) return `every:${interval}`;
    if (interval % MINUTE !== 0) return null;
    const phase = Math.floor((first - from) / MINUTE) % (interval / MINUTE);
    return `every:${interval}:${phase}`;
  }
  if (schedule.kind === "cron")
    return `cron:${schedule.expression}|${schedule.timezone}|${JSON.stringify(schedule.dst)}`;
  return null;
}
