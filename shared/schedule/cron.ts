import { resolveWall, type TimeZone, transitionsIn, wallMs } from "../timezone";
import type { CronFields } from "./cron-fields";
import type { DstRule } from "./dst";

const SECOND = 1000;
const DAY = 86_400_000;
/** Longer than any DST shift in tz data (Antarctica/Troll moves two hours). */
const MAX_SHIFT = 3 * 3_600_000;
/**
 * How far ahead to look before deciding an expression never matches (`0 0 0 30 2 *`). Nine years, not
 * robfig's five, so Feb 29 is still found across 2100, which is not a leap year.
 */
const HORIZON_YEARS = 9;

/**
 * First instant strictly after `afterMs` at which the cron fields fire in `zone` under `rule`, or null.
 *
 * Wall-clock semantics: a wall time that exists once fires at its instant. One that exists twice (fall
 * back) fires at its first occurrence, and under `twice` at its second too. Wall times inside a
 * spring-forward gap fire once at the transition instant under `transition` (several matches in one
 * gap collapse into one run) and not at all under `skip`.
 */
export function nextCronInstant(
  fields: CronFields,
  zone: TimeZone,
  afterMs: number,
  rule: DstRule,
): number | null {
  const first = firstOccurrence(fields, zone, afterMs, rule);
  if (rule.repeated === "once" || zone.isUtc) return first;
  const second = secondOccurrence(fields, zone, afterMs, first);
  return second !== null && (first === null || second < first) ? second : first;
}

/** The next fire after `afterMs` counting each wall time at its first occurrence only. */
function firstOccurrence(fields: CronFields, zone: TimeZone, afterMs: number, rule: DstRule): number | null {
  const s = Math.floor(afterMs / SECOND) * SECOND + SECOND;
  let from = searchStart(zone, s);
  // Capped below the last full year a Date can hold, where calendar arithmetic turns into NaN.
  const limitYear = Math.min(new Date(from).getUTCFullYear() + HORIZON_YEARS, 275_759);
  // One pass, or two when `afterMs` falls in an overlap's repeat pass; the rest guard against tz data
  // with two transitions within two days.
  for (let pass = 0; pass < 8; pass++) {
    const w = nextMatchingWall(fields, from, limitYear);
    if (w === null) return null;
    const r = resolveWall(zone, w);
    if (r.kind === "single") {
      if (r.instant > afterMs) return r.instant;
      from = w + SECOND;
    } else if (r.kind === "repeat") {
      if (r.first > afterMs) return r.first;
      from = r.overlapEndWall;
    } else {
      if (rule.missing === "transition" && r.transition > afterMs) return r.transition;
      from = r.transition + zone.offsetAt(r.transition);
    }
  }
  return null;
}

/**
 * The earliest second occurrence of a repeated wall time after `afterMs` and before `before` (the
 * next first occurrence), or null. Second occurrences lie in [T, T + shift) after a fall-back T.
 */
function secondOccurrence(
  fields: CronFields,
  zone: TimeZone,
  afterMs: number,
  before: number | null,
): number | null {
  const s = Math.floor(afterMs / SECOND) * SECOND + SECOND;
  const until = before ?? s + 2 * DAY;
  for (const t of transitionsIn(zone, s - MAX_SHIFT, until)) {
    if (t.after >= t.before) continue;
    const lo = Math.max(t.at, s);
    const w = nextMatchingWall(fields, lo + t.after, new Date(lo).getUTCFullYear() + 1);
    if (w !== null && w < t.at + t.before) return w - t.after;
  }
  return null;
}

/** Wall times a `skip` rule does not run, in one spring-forward gap: the ledger's `skipped-dst`. */
export interface DstSkip {
  /** The transition instant (the first after the gap). */
  readonly at: number;
  /**
   * `skipped`: under `skip`, the gap's wall times do not run. `merged`: under `transition`, they run
   * as one run at the transition, shared with the wall time there when it matches too; `count` is
   * how many wall times have no run of their own.
   */
  readonly kind: "skipped" | "merged";
  /** How many matching wall times the gap held. */
  readonly count: number;
  /** The first and last of them, as wall times (encoded as if UTC). */
  readonly firstWall: number;
  readonly lastWall: number;
  /** Offsets (ms) before and after the transition. */
  readonly offsetBefore: number;
  readonly offsetAfter: number;
}

/**
 * Matching wall times the rule never runs, at transitions in (from, to]: those inside a gap under
 * `skip`. Every other wall time runs at least once (`once` still runs a repeated one, `transition`
 * runs a gap's at the transition), so it is not a skip.
 */
export function dstSkipsIn(
  fields: CronFields,
  zone: TimeZone,
  from: number,
  to: number,
  rule: DstRule,
): DstSkip[] {
  const out: DstSkip[] = [];
  for (const t of transitionsIn(zone, from, to)) {
    if (t.after <= t.before) continue;
    // The gap's wall times: [at + before, at + after).
    const lo = t.at + t.before;
    const hi = t.at + t.after;
    let count = 0;
    let firstWall = 0;
    let lastWall = 0;
    const limitYear = new Date(hi).getUTCFullYear() + 1;
    for (let w = nextMatchingWall(fields, lo, limitYear); w !== null && w < hi; ) {
      if (count === 0) firstWall = w;
      lastWall = w;
      count++;
      w = nextMatchingWall(fields, w + SECOND, limitYear);
    }
    if (rule.missing === "skip") {
      if (count > 0) {
        out.push({
          at: t.at,
          kind: "skipped",
          count,
          firstWall,
          lastWall,
          offsetBefore: t.before,
          offsetAfter: t.after,
        });
      }
      continue;
    }
    // One run at the transition stands for them all, and for the wall time there if it matches.
    const atMatches = nextMatchingWall(fields, hi, limitYear) === hi;
    const merged = atMatches ? count : count - 1;
    if (merged > 0) {
      out.push({
        at: t.at,
        kind: "merged",
        count: merged,
        firstWall,
        lastWall,
        offsetBefore: t.before,
        offsetAfter: t.after,
      });
    }
  }
  return out;
}

/**
 * Where to start the wall-time search for instants >= `s` (a whole second). When `s` is a transition
 * instant, the wall times just before the new offset's reading map to `s` or later: after a gap, the
 * gap's wall times map to `s`; after a fall back, the first wall time not yet seen is where the old
 * offset left off. Both are `s + previous`. Inside the repeat pass of an overlap this returns wall times
 * whose first occurrence is already past; the caller's loop skips those in one step.
 */
function searchStart(zone: TimeZone, s: number): number {
  if (zone.isUtc) return s;
  const offset = zone.offsetAt(s);
  const previous = zone.offsetAt(s - SECOND);
  return offset !== previous ? s + previous : s + offset;
}

/** Smallest whole-second wall time >= `fromWall` matching all fields, or null past `limitYear`. */
export function nextMatchingWall(f: CronFields, fromWall: number, limitYear: number): number | null {
  const start = new Date(Math.ceil(fromWall / SECOND) * SECOND);
  let y = start.getUTCFullYear();
  let mo = start.getUTCMonth() + 1;
  let d = start.getUTCDate();
  let h = start.getUTCHours();
  let mi = start.getUTCMinutes();
  let s = start.getUTCSeconds();
  // Each failed field resets the smaller ones and moves the larger one on; next[] tables end in -1, so
  // an overflowed unit (hour 24, minute 60) falls through to the carry branch on the next iteration.
  for (;;) {
    if (mo > 12) {
      y++;
      mo = 1;
      d = 1;
      h = mi = s = 0;
    }
    // Negated so that NaN (an instant outside Date's range) ends the search too.
    if (!(y <= limitYear)) return null;
    const mo2 = f.month.next[mo]!;
    if (mo2 < 0) {
      mo = 13;
      continue;
    }
    if (mo2 !== mo) {
      mo = mo2;
      d = 1;
      h = mi = s = 0;
    }
    if (d > daysInMonth(y, mo)) {
      mo++;
      d = 1;
      h = mi = s = 0;
      continue;
    }
    if (!dayMatches(f, y, mo, d)) {
      d++;
      h = mi = s = 0;
      continue;
    }
    const h2 = f.hour.next[h]!;
    if (h2 < 0) {
      d++;
      h = mi = s = 0;
      continue;
    }
    if (h2 !== h) {
      h = h2;
      mi = s = 0;
    }
    const mi2 = f.minute.next[mi]!;
    if (mi2 < 0) {
      h++;
      mi = s = 0;
      continue;
    }
    if (mi2 !== mi) {
      mi = mi2;
      s = 0;
    }
    const s2 = f.second.next[s]!;
    if (s2 < 0) {
      mi++;
      s = 0;
      continue;
    }
    return wallMs(y, mo, d, h, mi, s2);
  }
}

/** robfig's rule: if either day field is `*`/`?` both must match, otherwise either may (classic cron). */
function dayMatches(f: CronFields, y: number, mo: number, d: number): boolean {
  const domMatch = f.dom.has(d);
  const dowMatch = f.dow.has(weekday(y, mo, d));
  return f.dom.star || f.dow.star ? domMatch && dowMatch : domMatch || dowMatch;
}

function weekday(y: number, mo: number, d: number): number {
  // 1970-01-01 was a Thursday (4).
  const days = Math.floor(wallMs(y, mo, d) / DAY);
  return (((days + 4) % 7) + 7) % 7;
}

function daysInMonth(y: number, mo: number): number {
  return new Date(wallMs(y, mo + 1, 0)).getUTCDate();
}
