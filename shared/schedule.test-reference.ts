/**
 * Test-only (imported by schedule.dst*.test.ts and schedule.oracle.test.ts, never by runtime code). A brute-force reference for the
 * schedule that knows nothing of offsets or transitions: it walks instants one step at a time, reads each
 * one's wall clock from Intl (a different locale and formatter from the implementation's), and applies
 * each DST rule literally:
 *   - `once`: a wall time fires at the first instant showing it (a repeated wall time fires once);
 *     `twice`: at every instant showing it;
 *   - `transition`: wall times the clock jumped over fire once, at the first instant after the jump;
 *     `skip`: they do not fire;
 *   - `auto`: `twice,skip` when the second, minute or hour field starts with `*`, else `once,transition`.
 * Its cron matcher is a separate, deliberately naive one (numbers, `*`, `a-b`, `/n`, lists), fed the
 * seconds-first expression each schedule stands for.
 */
import { parseSchedule } from "./schedule";

/** One second in ms. */
export const SECOND = 1000;
/** One minute in ms. */
export const MINUTE = 60 * SECOND;
/** One hour in ms. */
export const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Wall time (encoded as if UTC) and its calendar fields at each instant, read with sv-SE ("2026-03-29 03:00:00"). */
export function wallReader(tz: string): (t: number, fieldsOut?: Uint8Array, at?: number) => number {
  const f = new Intl.DateTimeFormat("sv-SE", {
    timeZone: tz,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  const pattern = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
  return (t, fieldsOut, at = 0) => {
    const text = f.format(t);
    const m = pattern.exec(text);
    if (!m) throw new Error(`unexpected sv-SE output ${text}`);
    const [y, mo, d, h, mi, sec] = [+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!];
    const wall = Date.UTC(y, mo - 1, d, h, mi, sec);
    if (fieldsOut) fieldsOut.set([sec, mi, h, d, mo, (Math.floor(wall / DAY) + 4) % 7], at);
    return wall;
  };
}

/**
 * Whether a wall time matches an expression, given its calendar fields: second, minute, hour, day of
 * month, month (1-12), weekday (0 = Sunday).
 */
export type WallMatcher = (s: number, mi: number, h: number, d: number, mo: number, wd: number) => boolean;

/** Calls `m` with the calendar fields of a wall time encoded as if UTC. */
export function matchWall(m: WallMatcher, wall: number): boolean {
  const d = new Date(wall);
  return m(
    d.getUTCSeconds(),
    d.getUTCMinutes(),
    d.getUTCHours(),
    d.getUTCDate(),
    d.getUTCMonth() + 1,
    d.getUTCDay(),
  );
}

/** The values a field allows, as a lookup table indexed by value. */
export function naiveField(text: string, min: number, max: number): Uint8Array {
  const out = new Uint8Array(max + 1);
  for (const part of text.split(",")) {
    const [range = "", stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    const bounds = range === "*" ? [min, max] : range.split("-").map(Number);
    const lo = bounds[0]!;
    const hi = bounds[1] ?? (stepText === undefined ? lo : max);
    for (let v = lo; v <= hi; v += step) out[v === 7 && max === 6 ? 0 : v] = 1;
  }
  return out;
}

/** A naive matcher for a seconds-first 6-field expression. */
export function naiveCron(expr: string): WallMatcher {
  const f = expr.trim().split(/\s+/);
  const [sec, min, hour, dom, mon, dow] = [
    naiveField(f[0]!, 0, 59),
    naiveField(f[1]!, 0, 59),
    naiveField(f[2]!, 0, 23),
    naiveField(f[3]!, 1, 31),
    naiveField(f[4]!, 1, 12),
    naiveField(f[5]!, 0, 6),
  ] as const;
  const bothRestricted = f[3] !== "*" && f[5] !== "*";
  return (s, mi, h, d, mo, wd) => {
    const dayOk = bothRestricted ? dom[d] === 1 || dow[wd] === 1 : dom[d] === 1 && dow[wd] === 1;
    return dayOk && sec[s] === 1 && min[mi] === 1 && hour[h] === 1 && mon[mo] === 1;
  };
}

/** What the walk saw, shared by every expression checked over the same zone and window. */
export interface Walk {
  readonly start: number;
  readonly step: number;
  readonly walls: Float64Array;
  /** Calendar fields of each wall time, decomposed once: six per instant, in WallMatcher's order. */
  readonly fields: Uint8Array;
  /** Wall time not shown by any earlier instant of the walk. */
  readonly firstSeen: Uint8Array;
  /** Wall times the clock jumped over just before instant i (only where it jumped). */
  readonly skipped: Map<number, number[]>;
  /** Reference results per expression, computed once. */
  readonly memo: Map<string, number[]>;
}

/** Walks instants from `start` to `end` every `step` ms and records what the wall clock showed. */
export function walk(tz: string, start: number, end: number, step: number): Walk {
  const read = wallReader(tz);
  const n = Math.floor((end - start) / step) + 1;
  const walls = new Float64Array(n);
  const fields = new Uint8Array(n * 6);
  const firstSeen = new Uint8Array(n);
  const skipped = new Map<number, number[]>();
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const w = read(start + i * step, fields, i * 6);
    walls[i] = w;
    if (!seen.has(w)) firstSeen[i] = 1;
    seen.add(w);
    if (i > 0 && w - walls[i - 1]! > step) {
      const jumped: number[] = [];
      for (let x = walls[i - 1]! + step; x < w; x += step) jumped.push(x);
      skipped.set(i, jumped);
    }
  }
  return { start, step, walls, fields, firstSeen, skipped, memo: new Map() };
}

/** The DST policies checked everywhere: `auto` and the four concrete rules. */
export const POLICIES = ["auto", "once,transition", "once,skip", "twice,transition", "twice,skip"] as const;
/** Every `dst` value a job may carry, including the one-half forms the random sweep draws from. */
export const ALL_POLICIES = [...POLICIES, "once", "twice", "transition", "skip"] as const;
export type Policy = (typeof ALL_POLICIES)[number];

/**
 * The concrete rule a policy stands for, read off the expression's text (the reference's own
 * reading): a half the policy does not name is `auto`'s choice.
 */
export function referenceRule(expr: string, policy: Policy): { twice: boolean; skip: boolean } {
  const realTime = expr
    .trim()
    .split(/\s+/)
    .slice(0, 3)
    .some((f) => f.startsWith("*"));
  const words = policy.split(",");
  const twice = words.includes("twice") || (!words.includes("once") && realTime);
  const skip = words.includes("skip") || (!words.includes("transition") && realTime);
  return { twice, skip };
}

/** Fire instants in (start, end] by the rules above, for a seconds-first expression. */
export function referenceFires(w: Walk, expr: string, policy: Policy = "once,transition"): number[] {
  const key = `${expr}|${policy}`;
  const hit = w.memo.get(key);
  if (hit) return hit;
  const { twice, skip } = referenceRule(expr, policy);
  const matches = naiveCron(expr);
  const out: number[] = [];
  for (let i = 1; i < w.walls.length; i++) {
    const jumpedMatch = !skip && (w.skipped.get(i)?.some((x) => matchWall(matches, x)) ?? false);
    const f = w.fields;
    const k = i * 6;
    const wallMatch =
      (twice || w.firstSeen[i] === 1) &&
      matches(f[k]!, f[k + 1]!, f[k + 2]!, f[k + 3]!, f[k + 4]!, f[k + 5]!);
    if (jumpedMatch || wallMatch) out.push(w.start + i * w.step);
  }
  w.memo.set(key, out);
  return out;
}

/**
 * Matching wall times without a run of their own, per gap, as [first instant after the jump, count]:
 * under `skip` every jumped-over match; under `transition` those the one run at the transition
 * stands for beyond the first (all of them when the wall time at that instant matches too).
 */
export function referenceSkips(w: Walk, expr: string, policy: Policy): [number, number][] {
  const { skip } = referenceRule(expr, policy);
  const matches = naiveCron(expr);
  const out: [number, number][] = [];
  for (const [i, jumped] of w.skipped) {
    const n = jumped.filter((x) => matchWall(matches, x)).length;
    const k = skip ? n : matchWall(matches, w.walls[i]!) ? n : n - 1;
    if (k > 0) out.push([w.start + i * w.step, k]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** A zone under test and its 2026 transitions. */
export interface ZoneCase {
  readonly tz: string;
  /** 2026 transitions (UTC instants), checked below to be real so the windows cannot go stale quietly. */
  readonly transitions: readonly string[];
  readonly hasDst: boolean;
}

/** The zones compared: two hemispheres, a 30-minute DST shift, and a half-hour offset without DST. */
export const zones: readonly ZoneCase[] = [
  { tz: "Europe/Berlin", transitions: ["2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z"], hasDst: true },
  { tz: "America/New_York", transitions: ["2026-03-08T07:00:00Z", "2026-11-01T06:00:00Z"], hasDst: true },
  // +10:30 standard, +11 summer: 02:00 -> 01:30 on 5 April, 02:00 -> 02:30 on 4 October.
  { tz: "Australia/Lord_Howe", transitions: ["2026-04-04T15:00:00Z", "2026-10-03T15:30:00Z"], hasDst: true },
  // No DST: windows on Europe's transition dates, where a bug keyed to other zones would show.
  { tz: "Asia/Kolkata", transitions: ["2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z"], hasDst: false },
];

/** [schedule, the equivalent seconds-first expression for the naive matcher]. */
export const expressions: readonly (readonly [string, string])[] = [
  ["0 30 2 * * *", "0 30 2 * * *"],
  ["0 0 * * * *", "0 0 * * * *"],
  ["0 */15 * * * *", "0 */15 * * * *"],
  ["0 0 1 * * *", "0 0 1 * * *"],
  ["0 45 1 * * *", "0 45 1 * * *"],
  ["0 0 2 * * *", "0 0 2 * * *"],
  ["0 0 3 * * *", "0 0 3 * * *"],
  ["0 15 2 * * *", "0 15 2 * * *"],
  ["0 30,59 1 * * *", "0 30,59 1 * * *"],
  ["0 0,30 * * * *", "0 0,30 * * * *"],
  ["30 * 1-3 * * *", "30 * 1-3 * * *"],
  ["*/7 10-20 2 * * *", "*/7 10-20 2 * * *"],
  ["0 0 0 * * SUN", "0 0 0 * * 0"],
  ["0 0 2 1,4,8,25,29 * 1", "0 0 2 1,4,8,25,29 * 1"],
  ["30 2 * * *", "0 30 2 * * *"],
  ["*/10 * * * *", "0 */10 * * * *"],
  ["45 1 * * *", "0 45 1 * * *"],
  ["@hourly", "0 0 * * * *"],
  ["@daily", "0 0 0 * * *"],
  ["@midnight", "0 0 0 * * *"],
  ["@weekly", "0 0 0 * * 0"],
];

/** The implementation's fire instants in (after, end], by chaining next(). */
export function implFires(spec: string, tz: string, after: number, end: number, dst = "auto"): number[] {
  const s = parseSchedule(spec, { jobName: "dst", timezone: tz, dst });
  const out: number[] = [];
  for (let t = s.next(after); t !== null && t <= end; t = s.next(t)) out.push(t);
  return out;
}

/** Instants as ISO strings, so a failing comparison reads as times. */
export const iso = (xs: readonly number[]) => xs.map((x) => new Date(x).toISOString());

/** First reference fire strictly after t, by binary search. */
export function firstAfter(sorted: readonly number[], t: number): number | undefined {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! > t) hi = mid;
    else lo = mid + 1;
  }
  return sorted[lo];
}

/** A seeded generator (mulberry32), so a failure names a seed that replays. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
