import { scheduleError } from "./errors";

/** Grammar of one cron field, as robfig/cron v3 (the parser Dkron uses) defines it. */
interface FieldSpec {
  readonly name: string;
  readonly min: number;
  /** Upper end of `*` and of `N/step`. */
  readonly max: number;
  /** Largest value accepted when written out (day of week takes 7 for Sunday, folded onto 0). */
  readonly maxValue: number;
  readonly names?: ReadonlyMap<string, number>;
}

const monthNames = new Map(
  ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"].map((n, i) => [
    n,
    i + 1,
  ]),
);
const dowNames = new Map(["sun", "mon", "tue", "wed", "thu", "fri", "sat"].map((n, i) => [n, i]));

/** The six fields in order: second minute hour day-of-month month day-of-week. */
const FIELDS: readonly FieldSpec[] = [
  { name: "second", min: 0, max: 59, maxValue: 59 },
  { name: "minute", min: 0, max: 59, maxValue: 59 },
  { name: "hour", min: 0, max: 23, maxValue: 23 },
  { name: "day of month", min: 1, max: 31, maxValue: 31 },
  { name: "month", min: 1, max: 12, maxValue: 12, names: monthNames },
  { name: "day of week", min: 0, max: 6, maxValue: 7, names: dowNames },
];

/**
 * A field's allowed values as a successor table: `next[i]` is the smallest allowed value >= i, or -1.
 * The search then jumps straight to the next candidate instead of testing values one by one.
 */
export interface CronField {
  readonly next: Int8Array;
  /** True when the field was `*` or `?` (robfig's star bit), which changes how dom and dow combine. */
  readonly star: boolean;
  has(value: number): boolean;
}

/** A compiled 6-field cron expression. */
export interface CronFields {
  readonly second: CronField;
  readonly minute: CronField;
  readonly hour: CronField;
  readonly dom: CronField;
  readonly month: CronField;
  readonly dow: CronField;
}

/** Sum of the Unicode code points of the job name: Dkron's `~` hash. */
export function nameHash(jobName: string): number {
  let sum = 0;
  for (const ch of jobName) sum += ch.codePointAt(0) ?? 0;
  return sum;
}

// Per 6-field index, as Dkron's scheduleHash: sec, min, hour, dom, month, dow.
const hashers: readonly ((h: number) => number)[] = [
  (h) => h % 60,
  (h) => h % 60,
  (h) => h % 24,
  (h) => (h % 28) + 1,
  (h) => (h % 12) + 1,
  (h) => h % 7,
];

/** Replaces every `~` in six (seconds-first) fields with the value Dkron derives from the job name. */
export function applyNameHash(fields: readonly string[], jobName: string): string[] {
  const hash = nameHash(jobName);
  return fields.map((f, i) => (f.includes("~") ? f.replaceAll("~", String(hashers[i]!(hash))) : f));
}

/** Compiles six seconds-first fields; throws a VALIDATION AppError naming the field and the problem. */
export function compileFields(fields: readonly string[]): CronFields {
  const [second, minute, hour, dom, month, dow] = FIELDS.map((spec, i) =>
    compileField(fields[i] ?? "", spec),
  );
  return { second: second!, minute: minute!, hour: hour!, dom: dom!, month: month!, dow: dow! };
}

function compileField(text: string, spec: FieldSpec): CronField {
  const bits = new Uint8Array(spec.max + 1);
  let star = false;
  for (const part of text.split(",")) star = addRange(part, spec, bits) || star;
  const next = new Int8Array(spec.max + 2).fill(-1);
  for (let v = spec.max; v >= 0; v--) next[v] = bits[v] ? v : next[v + 1]!;
  return { next, star, has: (v) => bits[v] === 1 };
}

/** Sets the bits for one comma-separated part; returns whether it carries robfig's star bit. */
function addRange(expr: string, spec: FieldSpec, bits: Uint8Array): boolean {
  const fail = (problem: string) => scheduleError(`field "${spec.name}" ${problem}`);
  const rangeAndStep = expr.split("/");
  if (rangeAndStep.length > 2) throw fail(`has too many slashes in "${expr}"`);
  const range = rangeAndStep[0]!;
  const lowAndHigh = range.split("-");
  if (lowAndHigh.length > 2) throw fail(`has an invalid range "${range}"`);
  let start: number;
  let end: number;
  let star = false;
  if (range === "*" || range === "?") {
    start = spec.min;
    end = spec.max;
    star = true;
  } else {
    start = fieldValue(lowAndHigh[0]!, spec);
    end = lowAndHigh.length === 2 ? fieldValue(lowAndHigh[1]!, spec) : start;
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    const stepText = rangeAndStep[1]!;
    if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
      throw fail(`step must be a positive number in "${expr}"`);
    }
    step = Number(stepText);
    // robfig: "N/step" means "N-max/step".
    if (lowAndHigh.length === 1 && !star) end = spec.max;
    if (step > 1) star = false;
  }
  if (start > end) throw fail(`range ${start}-${end} is backwards in "${expr}"`);
  for (let v = start; v <= end; v += step) bits[v > spec.max ? spec.min : v] = 1;
  return star;
}

function fieldValue(text: string, spec: FieldSpec): number {
  const named = spec.names?.get(text.toLowerCase());
  if (named !== undefined) return named;
  if (!/^\d+$/.test(text)) throw scheduleError(`field "${spec.name}" has invalid value "${text}"`);
  const v = Number(text);
  if (v < spec.min || v > spec.maxValue) {
    throw scheduleError(`field "${spec.name}" value ${v} out of range ${spec.min}-${spec.maxValue}`);
  }
  return v;
}
