import { AppError } from "../errors";

/** What a cron job does with a wall time that happens twice (clocks fall back). */
export type RepeatedRule = "once" | "twice";
/** What a cron job does with wall times that never happen (clocks spring forward). */
export type MissingRule = "transition" | "skip";

/** The concrete rule a job's schedule runs by across DST transitions. */
export interface DstRule {
  /** `once`: the first occurrence only; `twice`: both occurrences (real time). */
  readonly repeated: RepeatedRule;
  /** `transition`: run once at the transition instant; `skip`: do not run (real time). */
  readonly missing: MissingRule;
}

/**
 * The `dst` values a job may carry, in their stored (canonical) form: `auto`, one half (the other
 * half chosen as `auto` would), or both halves, repeated-hour rule first.
 */
export const DST_POLICIES = [
  "auto",
  "once",
  "twice",
  "transition",
  "skip",
  "once,transition",
  "once,skip",
  "twice,transition",
  "twice,skip",
] as const;

/** A job's DST policy, canonical. */
export type DstPolicy = (typeof DST_POLICIES)[number];

const REPEATED: readonly string[] = ["once", "twice"];
const MISSING: readonly string[] = ["transition", "skip"];

/**
 * Reads a `dst` value: `auto`, or `once`/`twice` and/or `transition`/`skip`, separated by a comma or
 * spaces, in any order and case. Returns the canonical form, or what is wrong with it.
 */
export function readDstPolicy(text: string): { policy: DstPolicy } | { problem: string } {
  const words = text
    .trim()
    .toLowerCase()
    .split(/[\s,]+/)
    .filter(Boolean);
  const fail = (why: string) => ({
    problem: `${why}; use "auto", or one of once|twice (repeated hour) and/or one of transition|skip (missing hour), e.g. "twice,skip"`,
  });
  if (words.length === 0 || (words.length === 1 && words[0] === "auto")) return { policy: "auto" };
  const unknown = words.find((w) => !REPEATED.includes(w) && !MISSING.includes(w));
  if (unknown !== undefined) return fail(`unknown value "${unknown}"`);
  const repeated = words.filter((w) => REPEATED.includes(w));
  const missing = words.filter((w) => MISSING.includes(w));
  if (repeated.length > 1) return fail(`"${repeated.join('" and "')}" both set the repeated hour`);
  if (missing.length > 1) return fail(`"${missing.join('" and "')}" both set the missing hour`);
  return { policy: [...repeated, ...missing].join(",") as DstPolicy };
}

/** readDstPolicy, throwing VALIDATION (field `dst`) on a bad value. */
export function parseDstPolicy(text: string): DstPolicy {
  const r = readDstPolicy(text);
  if ("problem" in r) throw new AppError("VALIDATION", `dst: ${r.problem}`, { field: "dst" });
  return r.policy;
}

/**
 * Vixie cron's rule, which `auto` applies: a schedule whose second, minute or hour field starts with
 * `*` or `?` (a wildcard or a step such as `*\/15`) follows real time; one whose second, minute and
 * hour are all fixed runs once per wall-clock day. Takes the six seconds-first fields (after `~`).
 */
export function followsRealTime(fields: readonly string[]): boolean {
  return fields.slice(0, 3).some((f) => f.startsWith("*") || f.startsWith("?"));
}

/** The concrete rule for a cron schedule's six fields under a job's policy. */
export function resolveDstRule(policy: DstPolicy, fields: readonly string[]): DstRule {
  const realTime = followsRealTime(fields);
  const auto: DstRule = realTime
    ? { repeated: "twice", missing: "skip" }
    : { repeated: "once", missing: "transition" };
  if (policy === "auto") return auto;
  let { repeated, missing } = auto;
  for (const word of policy.split(",")) {
    if (word === "once" || word === "twice") repeated = word;
    else missing = word as MissingRule;
  }
  return { repeated, missing };
}
