// Pure formatting for the dashboard: durations, relative times, instants. No Intl zone data beyond
// UTC is assumed of the runtime (workerd has it, but a job's zone is shown by the preview's offsets).

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A duration in ms as "850 ms", "12.3 s", "4m 05s", "2h 10m", "3d 4h". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  const a = Math.abs(ms);
  const sign = ms < 0 ? "-" : "";
  if (a < SECOND) return `${sign}${Math.round(a)} ms`;
  if (a < MINUTE) return `${sign}${(a / SECOND).toFixed(a < 10 * SECOND ? 2 : 1)} s`;
  if (a < HOUR)
    return `${sign}${Math.floor(a / MINUTE)}m ${String(Math.floor((a % MINUTE) / SECOND)).padStart(2, "0")}s`;
  if (a < DAY)
    return `${sign}${Math.floor(a / HOUR)}h ${String(Math.floor((a % HOUR) / MINUTE)).padStart(2, "0")}m`;
  return `${sign}${Math.floor(a / DAY)}d ${Math.floor((a % DAY) / HOUR)}h`;
}

/** How far `at` is from `now`, in words: "in 5m", "3h ago", "just now". */
export function relativeTime(at: number | null | undefined, now: number): string {
  if (at === null || at === undefined || !Number.isFinite(at)) return "never";
  const d = at - now;
  if (Math.abs(d) < 5 * SECOND) return "just now";
  const words = formatDuration(Math.abs(d)).replace(/\.\d+ s$/, " s");
  return d > 0 ? `in ${words}` : `${words} ago`;
}

/** An RFC3339 string (or Dkron's zero time / null) as epoch ms, or null. */
export function parseApiTime(text: string | null | undefined): number | null {
  if (!text || text.startsWith("0001-01-01")) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}

/** An instant as "2026-12-03 06:30:00 UTC". */
export function utcText(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** The later of two API times (a job's last run: its last success or last error). */
export function latest(a: string | null, b: string | null): number | null {
  const x = parseApiTime(a);
  const y = parseApiTime(b);
  if (x === null) return y;
  if (y === null) return x;
  return Math.max(x, y);
}
