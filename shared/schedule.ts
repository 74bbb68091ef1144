import { AppError } from "./errors";
import {
  applyNameHash,
  compileFields,
  type DstPolicy,
  type DstRule,
  type DstSkip,
  dstSkipsIn,
  nextCronInstant,
  nextEveryInstant,
  parseAtInstant,
  parseDstPolicy,
  parseEveryInterval,
  resolveDstRule,
  scheduleError,
} from "./schedule/index";
import { loadTimeZone, type TimeZone } from "./timezone";

export {
  DST_POLICIES,
  type DstPolicy,
  type DstRule,
  type DstSkip,
  nameHash,
  parseDstPolicy,
  readDstPolicy,
} from "./schedule/index";
export { isValidTimezone, validateTimezone } from "./timezone";

/** What a schedule string is read against: the job's name (for `~`) and its IANA `timezone`. */
export interface ScheduleOptions {
  jobName: string;
  /**
   * IANA zone for cron expressions and `@daily`-style descriptors. Empty or absent means UTC, where
   * Dkron uses the server's local zone: every node of a cluster must compute the same slots, and a
   * host's local zone is not part of the job. Unlike Dkron, descriptors honour it too.
   */
  timezone?: string;
  /** DST policy for cron schedules (see shared/schedule/dst.ts); `auto` when absent. */
  dst?: string;
}

/** A parsed schedule: which kind it is, the zone it runs in and how to find its next fire instant. */
export interface Schedule {
  readonly kind: "cron" | "every" | "at" | "manual";
  /** Resolved zone ("UTC" when none): a `TZ=`/`CRON_TZ=` prefix, else the job's timezone. */
  readonly timezone: string;
  /** Normalised form: six seconds-first fields for cron and descriptors (after `~`), else the `@` spec. */
  readonly expression: string;
  /** How a cron schedule treats DST transitions; null for @every, @at and @manually (real instants). */
  readonly dst: DstRule | null;
  /** First fire instant strictly after `afterMs`, or null if none. `anchorMs` is required for @every. */
  next(afterMs: number, anchorMs?: number): number | null;
  /** Matching wall times the DST rule does not run, at transitions in (fromMs, toMs]. */
  dstSkips(fromMs: number, toMs: number): DstSkip[];
}

/** Options for nextFireTimes: ScheduleOptions plus the anchor `@every` counts its slots from. */
export type FireTimesOptions = ScheduleOptions & { anchorMs?: number };

/** The cron fields each descriptor stands for (seconds first), as robfig and Dkron define them. */
export const DESCRIPTORS: Readonly<Record<string, string>> = {
  "@yearly": "0 0 0 1 1 *",
  "@annually": "0 0 0 1 1 *",
  "@monthly": "0 0 0 1 * *",
  "@weekly": "0 0 0 * * 0",
  "@daily": "0 0 0 * * *",
  "@midnight": "0 0 0 * * *",
  "@hourly": "0 0 * * * *",
  "@minutely": "0 * * * * *",
};

/** True for a blank schedule, which parseSchedule rejects; callers that allow one (child jobs) check this first. */
export function isEmptySchedule(spec: string): boolean {
  return spec.trim() === "";
}

/** Parses Dkron's schedule grammar; throws AppError VALIDATION (field `schedule` or `timezone`). */
export function parseSchedule(spec: string, opts: ScheduleOptions): Schedule {
  const jobZone = loadTimeZone(opts.timezone ?? "", "timezone");
  const policy = parseDstPolicy(opts.dst ?? "auto");
  let rest = spec.trim();
  if (rest === "") throw scheduleError("cannot be empty");
  let zone = jobZone;
  const prefix = /^(?:CRON_)?TZ=(\S*)(?:\s+|$)/.exec(rest);
  if (prefix) {
    const name = prefix[1]!;
    if (name === "") throw scheduleError("TZ= prefix needs a time zone name");
    // The prefix is part of the schedule, so a bad zone there is the schedule's fault, not the job's.
    zone = loadTimeZone(name, "schedule");
    rest = rest.slice(prefix[0].length);
    if (rest === "") throw scheduleError(`nothing follows the ${prefix[0].trim()} prefix`);
  }
  return rest.startsWith("@")
    ? parseDescriptor(rest, zone, policy)
    : cronSchedule(rest, zone, opts.jobName, policy);
}

/** The next `n` fire instants strictly after `afterMs` (fewer if the schedule ends), strictly increasing. */
export function nextFireTimes(spec: string, opts: FireTimesOptions, afterMs: number, n: number): number[] {
  const schedule = parseSchedule(spec, opts);
  const out: number[] = [];
  let cursor = afterMs;
  while (out.length < n) {
    const t = schedule.next(cursor, opts.anchorMs);
    if (t === null) break;
    out.push(t);
    cursor = t;
  }
  return out;
}

/** A non-finite instant is a caller bug (it would also defeat the search's bounds), not bad input. */
function checkInstant(name: string, ms: number): void {
  if (!Number.isFinite(ms))
    throw new AppError("INTERNAL", `schedule: ${name} must be a finite instant, got ${ms}`);
}

const noSkips = (): DstSkip[] => [];

function parseDescriptor(rest: string, zone: TimeZone, policy: DstPolicy): Schedule {
  const space = rest.search(/\s/);
  const keyword = (space < 0 ? rest : rest.slice(0, space)).toLowerCase();
  const arg = space < 0 ? "" : rest.slice(space).trim();
  const timezone = zone.name;
  switch (keyword) {
    case "@every": {
      const interval = parseEveryInterval(arg);
      return {
        kind: "every",
        timezone,
        dst: null,
        dstSkips: noSkips,
        expression: `@every ${arg}`,
        next(afterMs, anchorMs) {
          if (anchorMs === undefined) {
            throw new AppError("INTERNAL", "schedule: @every needs an anchor instant to count slots from");
          }
          checkInstant("afterMs", afterMs);
          checkInstant("anchorMs", anchorMs);
          return nextEveryInstant(interval, anchorMs, afterMs);
        },
      };
    }
    case "@at": {
      const at = parseAtInstant(arg);
      return {
        kind: "at",
        timezone,
        dst: null,
        dstSkips: noSkips,
        expression: `@at ${arg}`,
        next: (afterMs) => (at > afterMs ? at : null),
      };
    }
    case "@manually":
      if (arg !== "") throw scheduleError(`@manually takes no argument, got "${arg}"`);
      return {
        kind: "manual",
        timezone,
        expression: "@manually",
        dst: null,
        next: () => null,
        dstSkips: noSkips,
      };
    default: {
      const fields = DESCRIPTORS[keyword];
      if (fields === undefined) throw scheduleError(`unknown descriptor "${keyword}"`);
      if (arg !== "") throw scheduleError(`${keyword} takes no argument, got "${arg}"`);
      return cronFromFields(fields.split(" "), zone, policy);
    }
  }
}

function cronSchedule(rest: string, zone: TimeZone, jobName: string, policy: DstPolicy): Schedule {
  const fields = rest.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    throw scheduleError(`expected 5 or 6 fields, got ${fields.length}`);
  }
  // Plain 5-field cron runs at second 0; prepending it also lines the fields up for the `~` hash.
  const six = fields.length === 5 ? ["0", ...fields] : fields;
  return cronFromFields(applyNameHash(six, jobName), zone, policy);
}

function cronFromFields(fields: string[], zone: TimeZone, policy: DstPolicy): Schedule {
  const compiled = compileFields(fields);
  const rule = resolveDstRule(policy, fields);
  return {
    kind: "cron",
    timezone: zone.name,
    expression: fields.join(" "),
    dst: rule,
    next(afterMs) {
      checkInstant("afterMs", afterMs);
      return nextCronInstant(compiled, zone, afterMs, rule);
    },
    dstSkips(fromMs, toMs) {
      checkInstant("fromMs", fromMs);
      checkInstant("toMs", toMs);
      return dstSkipsIn(compiled, zone, fromMs, toMs, rule);
    },
  };
}
