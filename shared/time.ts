import { z } from "zod";

/** Go's zero time as Dkron renders it for "never" in non-nullable time fields. */
export const ZERO_TIME = "0001-01-01T00:00:00Z";

/** Renders epoch milliseconds as RFC3339 UTC (millisecond precision), or null. */
export function toRfc3339(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

const rfc3339 = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;
// HTML datetime-local (what Dkron's UI form sends), read as UTC like Dkron does.
const datetimeLocal = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;

/** Parses RFC3339 or datetime-local (as UTC) into epoch ms; null when the text is not a time. */
export function parseTime(text: string): number | null {
  if (rfc3339.test(text)) return parseInstant(text);
  if (datetimeLocal.test(text)) {
    const ms = Date.parse(`${text}Z`);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}

/** Parses an RFC3339 instant that names its offset (`Z` or `+hh:mm`) into epoch ms; null otherwise. */
export function parseInstant(text: string): number | null {
  if (!rfc3339.test(text) || !isCalendarDate(text)) return null;
  const ms = Date.parse(text.replace(" ", "T"));
  return Number.isNaN(ms) ? null : ms;
}

/** Whether the text's leading YYYY-MM-DD exists (Date.parse reads 2026-02-30 as March 2). */
function isCalendarDate(text: string): boolean {
  const [y, m, d] = text.slice(0, 10).split("-").map(Number) as [number, number, number];
  return m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** A nullable time field: null, "", RFC3339 or datetime-local in, epoch ms (or null) out. */
export const nullableTime = z
  .union([z.string(), z.null()])
  .optional()
  .transform((v, ctx) => {
    if (v === null || v === undefined || v === "" || v === ZERO_TIME) return null;
    const ms = parseTime(v);
    if (ms === null) {
      ctx.addIssue({
        code: "custom",
        message: `expected an RFC3339 time such as 2026-01-02T15:04:05Z, got "${v}"`,
      });
      return z.NEVER;
    }
    return ms;
  });

const units: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses a Go duration ("1h30m", "500ms", "10s") into milliseconds; null if malformed. */
export function parseGoDuration(text: string): number | null {
  const s = text.trim();
  if (s === "0") return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * (units[m[2]!] ?? 0);
    matched = re.lastIndex;
  }
  return matched === s.length && s.length > 0 ? total : null;
}

/** A duration option: "30s"-style text or a number of milliseconds. */
export const durationMs = z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
  if (typeof v === "number") return v;
  const ms = /^\d+$/.test(v) ? Number(v) : parseGoDuration(v);
  if (ms === null) {
    ctx.addIssue({
      code: "custom",
      message: `expected a duration such as "30s" or milliseconds, got "${v}"`,
    });
    return z.NEVER;
  }
  return ms;
});
