import type { DstRule, DstSkip, Schedule } from "./schedule";
import { loadTimeZone, resolveWall, type TimeZone, toWall, transitionsIn } from "./timezone";

/** How a previewed time relates to a DST transition; null when none is near. */
export type PreviewMark =
  /** The wall time happens twice; this run is at its first occurrence. */
  | "repeated-first"
  /** The wall time happens twice; this run is at its second occurrence (`twice`). */
  | "repeated-second"
  /** This run is at a transition instant (a gap's wall times run here under `transition`). */
  | "transition"
  /** The first run after a transition (the clock changed since the run before). */
  | "after-transition"
  /** Not a run: wall times in a gap that `skip` does not run. */
  | "skipped";

/** One line of a schedule preview. */
export interface PreviewEntry {
  /** The instant, RFC3339 UTC. */
  at: string;
  /** The same instant on the job's wall clock, RFC3339 with the zone's offset. */
  local: string;
  /** The zone's offset then, `+hh:mm`. */
  offset: string;
  /** False only for `skipped` entries. */
  runs: boolean;
  mark: PreviewMark | null;
  /** What the mark means for this entry, in words. */
  note: string | null;
}

/** A preview: the rule the schedule runs by and its next times. */
export interface Preview {
  timezone: string;
  /** The concrete DST rule (null for @every, @at and @manually, which are real instants). */
  dst: DstRule | null;
  entries: PreviewEntry[];
}

const SECOND = 1000;

/**
 * The next `n` runs of a schedule after `afterMs`, each with the zone's offset, marking those in or
 * next to a DST transition; wall times a `skip` rule drops are listed too (not counted in `n`).
 */
export function previewSchedule(schedule: Schedule, afterMs: number, n: number, anchorMs?: number): Preview {
  const zone = loadTimeZone(schedule.timezone);
  const entries: PreviewEntry[] = [];
  let prev = afterMs;
  let runs = 0;
  while (runs < n) {
    const t = schedule.next(prev, anchorMs);
    if (t === null) break;
    for (const skip of schedule.dstSkips(prev, t)) {
      entries.push({ ...times(zone, skip.at), runs: false, mark: "skipped", note: describeDstSkip(skip) });
    }
    const mark = markOf(zone, t, transitionsIn(zone, prev, t).length > 0);
    // Under once the second occurrence is simply absent from the list: say so where it would be missed.
    if (mark.mark === "repeated-first" && schedule.dst?.repeated === "once") {
      mark.note = `${mark.note}; under dst once the second does not run`;
    }
    entries.push({ ...times(zone, t), runs: true, ...mark });
    runs++;
    prev = t;
  }
  return { timezone: schedule.timezone, dst: schedule.dst, entries };
}

/** What a skip means, in words: the jump and the wall times that never happen. */
export function describeDstSkip(skip: DstSkip): string {
  if (skip.kind === "merged") {
    const gap =
      skip.firstWall === skip.lastWall
        ? clock(skip.firstWall)
        : `the wall times from ${clock(skip.firstWall)} to ${clock(skip.lastWall)}`;
    return `clocks jump from ${clock(skip.at + skip.offsetBefore)} to ${clock(skip.at + skip.offsetAfter)}: ${gap} run once at the transition, ${skip.count} of them without a run of their own (dst transition)`;
  }
  const words =
    skip.count === 1
      ? `${clock(skip.firstWall)} never happens and does not run`
      : `${skip.count} wall times from ${clock(skip.firstWall)} to ${clock(skip.lastWall)} never happen and do not run`;
  return `clocks jump from ${clock(skip.at + skip.offsetBefore)} to ${clock(skip.at + skip.offsetAfter)}: ${words} (dst skip)`;
}

function markOf(zone: TimeZone, t: number, crossed: boolean): Pick<PreviewEntry, "mark" | "note"> {
  if (zone.isUtc) return { mark: null, note: null };
  const wall = toWall(zone, t);
  const r = resolveWall(zone, wall);
  if (r.kind === "repeat") {
    const first = t === r.first;
    return {
      mark: first ? "repeated-first" : "repeated-second",
      note: `${clock(wall)} happens twice as clocks fall back; this is its ${first ? "first" : "second"} occurrence`,
    };
  }
  const before = zone.offsetAt(t - SECOND);
  const after = zone.offsetAt(t);
  if (before !== after) {
    return {
      mark: "transition",
      note: `at the transition: clocks go from ${clock(t + before)} to ${clock(t + after)}`,
    };
  }
  if (crossed) {
    return { mark: "after-transition", note: "the first run after a DST transition (the offset changed)" };
  }
  return { mark: null, note: null };
}

function times(zone: TimeZone, t: number): Pick<PreviewEntry, "at" | "local" | "offset"> {
  const offsetMs = zone.offsetAt(t);
  const offset = formatOffset(offsetMs);
  const local = new Date(Math.floor(t / SECOND) * SECOND + offsetMs).toISOString().slice(0, 19);
  return { at: new Date(t).toISOString(), local: `${local}${offset}`, offset };
}

/** `+hh:mm` (or `+hh:mm:ss` for historical offsets with seconds). */
export function formatOffset(ms: number): string {
  const sign = ms < 0 ? "-" : "+";
  const total = Math.abs(Math.round(ms / SECOND));
  const h = String(Math.floor(total / 3600)).padStart(2, "0");
  const m = String(Math.floor((total % 3600) / 60)).padStart(2, "0");
  const s = total % 60;
  return `${sign}${h}:${m}${s ? `:${String(s).padStart(2, "0")}` : ""}`;
}

/** A wall time (encoded as if UTC) as `HH:MM` (with `:SS` when not on a minute). */
function clock(wall: number): string {
  const text = new Date(wall).toISOString().slice(11, 19);
  return text.endsWith(":00") ? text.slice(0, 5) : text;
}
