import { AppError } from "./errors";

/**
 * Time-zone arithmetic on top of Intl, so it runs unchanged in Node and workerd (no tz database of our own).
 *
 * Vocabulary: an *instant* is ms since the epoch; a *wall time* is a local date-time encoded as if it were
 * UTC (`Date.UTC(y, m, d, h, mi, s)`), which makes calendar arithmetic on wall times plain integer math.
 * Offsets (`wall - instant`) have whole-second precision: every tz database transition and offset does.
 */

const SECOND = 1000;
const DAY = 86_400_000;
// Intl reads instants only within Date's range and prints years BC without a sign, so offsets are read
// inside [year 1, end of Date's range] and held constant outside it (local mean time, or the last rule).
const FIRST_READABLE = -62_135_510_400_000; // 0001-01-02T00:00:00Z
const LAST_READABLE = 8.64e15 - 2 * DAY;

/** A loaded IANA time zone. */
export interface TimeZone {
  /** The name as given (not canonicalised, so what an operator typed is what they see back). */
  readonly name: string;
  /** True for UTC and its aliases: offset always 0, no Intl calls needed. */
  readonly isUtc: boolean;
  /** Offset (wall minus instant) in ms in effect at `instantMs`. */
  offsetAt(instantMs: number): number;
}

/** How one wall time maps to instants. */
export type WallResolution =
  | { readonly kind: "single"; readonly instant: number }
  /** The wall time happens twice (fall-back overlap); `overlapEndWall` is the first wall time after the repeated range. */
  | {
      readonly kind: "repeat";
      readonly first: number;
      readonly second: number;
      readonly overlapEndWall: number;
    }
  /** The wall time never happens (spring-forward gap); `transition` is the first instant after the gap. */
  | { readonly kind: "gap"; readonly transition: number };

// IANA names only: Intl in newer V8 also accepts "+05:30", which Go (and so Dkron) rejects, and a job
// definition must mean the same on every runtime in the cluster.
const zoneNamePattern = /^[A-Za-z][A-Za-z0-9_+\-/]*$/;
// ICU canonicalises every UTC alias (Etc/UTC, GMT, Zulu, ...) to "UTC"; older builds may keep these two.
const utcNames = new Set(["UTC", "Etc/UTC", "Etc/GMT"]);

const cache = new Map<string, TimeZone | null>();

/** True when `name` is a time zone this runtime knows; "" counts as valid and means UTC. */
export function isValidTimezone(name: string): boolean {
  return name === "" || loadOrNull(name) !== null;
}

/** Throws AppError VALIDATION (field `timezone`) unless `name` is a known IANA zone or "" (= UTC). */
export function validateTimezone(name: string): void {
  if (!isValidTimezone(name)) {
    throw new AppError("VALIDATION", `timezone: unknown time zone "${name}"`, { field: "timezone" });
  }
}

/** Loads a zone ("" = UTC); throws AppError VALIDATION naming `field` when the zone is unknown. */
export function loadTimeZone(name: string, field = "timezone"): TimeZone {
  const zone = loadOrNull(name === "" ? "UTC" : name);
  if (zone === null) throw new AppError("VALIDATION", `${field}: unknown time zone "${name}"`, { field });
  return zone;
}

function loadOrNull(name: string): TimeZone | null {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  const zone = zoneNamePattern.test(name) ? build(name) : null;
  cache.set(name, zone);
  return zone;
}

function build(name: string): TimeZone | null {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: name,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  } catch {
    return null;
  }
  const canonical = format.resolvedOptions().timeZone;
  if (utcNames.has(canonical)) return { name, isUtc: true, offsetAt: () => 0 };
  const wallOf = fastWallReader(format) ?? ((t: number) => wallFromParts(format.formatToParts(t)));
  return {
    name,
    isUtc: false,
    offsetAt(instantMs) {
      const t = Math.min(Math.max(Math.floor(instantMs / SECOND) * SECOND, FIRST_READABLE), LAST_READABLE);
      return wallOf(t) - t;
    },
  };
}

// format() is about 4x faster than formatToParts(); it is used only when this runtime's en-US output
// has the expected "M/D/YYYY, HH:MM:SS" digit order, checked once against formatToParts.
const digitRuns = /^(\d+)\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)$/;

function fastWallReader(format: Intl.DateTimeFormat): ((t: number) => number) | null {
  const read = (t: number): number => {
    const m = digitRuns.exec(format.format(t));
    if (!m) return Number.NaN;
    return wallMs(Number(m[3]), Number(m[1]), Number(m[2]), Number(m[4]) % 24, Number(m[5]), Number(m[6]));
  };
  const probes = [
    Date.UTC(2026, 2, 29, 1, 2, 3),
    Date.UTC(1999, 11, 31, 23, 59, 58),
    Date.UTC(2038, 0, 19, 3, 14, 7),
  ];
  for (const t of probes) {
    if (read(t) !== wallFromParts(format.formatToParts(t))) return null;
  }
  return read;
}

function wallFromParts(parts: Intl.DateTimeFormatPart[]): number {
  const get = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((p) => p.type === type)?.value);
  return wallMs(get("year"), get("month"), get("day"), get("hour") % 24, get("minute"), get("second"));
}

/** Wall time for calendar fields (month 1-12); unlike Date.UTC, years 0-99 are not shifted to 19xx. */
export function wallMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (year >= 100) return ms;
  const d = new Date(ms);
  d.setUTCFullYear(year);
  return d.getTime();
}

/** The wall time at `instantMs` in `zone`, at whole-second precision. */
export function toWall(zone: TimeZone, instantMs: number): number {
  const t = Math.floor(instantMs / SECOND) * SECOND;
  return t + zone.offsetAt(t);
}

/**
 * Maps a whole-second wall time to instants. Looks one day either side for the offsets in play, which
 * assumes at most one transition within two days: true of every zone in current tz data.
 */
export function resolveWall(zone: TimeZone, wall: number): WallResolution {
  if (zone.isUtc) return { kind: "single", instant: wall };
  const before = zone.offsetAt(wall - DAY);
  const after = zone.offsetAt(wall + DAY);
  const c1 = wall - before;
  const c2 = wall - after;
  const ok1 = zone.offsetAt(c1) === before;
  if (before === after) {
    if (ok1) return { kind: "single", instant: c1 };
    // Two transitions within two days; not in current data. Stay monotone and close enough.
    return { kind: "single", instant: wall - zone.offsetAt(c1) };
  }
  const ok2 = zone.offsetAt(c2) === after;
  if (ok1 && ok2) {
    // before > after here (fall back): c1 is the earlier instant.
    const transition = firstInstantWithNewOffset(zone, c1, c2, before);
    return { kind: "repeat", first: c1, second: c2, overlapEndWall: transition + before };
  }
  if (ok1) return { kind: "single", instant: c1 };
  if (ok2) return { kind: "single", instant: c2 };
  // Spring forward: after > before, so c2 < transition <= c1.
  return { kind: "gap", transition: firstInstantWithNewOffset(zone, c2, c1, before) };
}

/** Smallest whole-second instant in (lo, hi] whose offset differs from `oldOffset`; lo has it, hi does not. */
function firstInstantWithNewOffset(zone: TimeZone, lo: number, hi: number, oldOffset: number): number {
  let a = lo;
  let b = hi;
  while (b - a > SECOND) {
    const mid = a + Math.floor((b - a) / 2 / SECOND) * SECOND;
    if (zone.offsetAt(mid) === oldOffset) a = mid;
    else b = mid;
  }
  return b;
}

/** One offset change: the first instant with the new offset, and the offsets either side. */
export interface Transition {
  readonly at: number;
  readonly before: number;
  readonly after: number;
}

/**
 * The transitions at instants in (from, to], ascending. Scans in one-day steps, which assumes (as
 * resolveWall does) at most one transition within two days, then bisects each changed step.
 */
export function transitionsIn(zone: TimeZone, from: number, to: number): Transition[] {
  const out: Transition[] = [];
  if (zone.isUtc || !(to > from)) return out;
  let a = Math.floor(from / SECOND) * SECOND;
  let offsetA = zone.offsetAt(a);
  while (a < to) {
    const b = Math.min(a + DAY, Math.floor(to / SECOND) * SECOND);
    if (b <= a) break;
    const offsetB = zone.offsetAt(b);
    if (offsetB !== offsetA) {
      const at = firstInstantWithNewOffset(zone, a, b, offsetA);
      if (at > from && at <= to) out.push({ at, before: offsetA, after: zone.offsetAt(at) });
    }
    a = b;
    offsetA = offsetB;
  }
  return out;
}
