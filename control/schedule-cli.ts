import { parseArgs } from "node:util";
import {
  AppError,
  type Clock,
  DEFAULT_PREVIEW_RUNS,
  isAppError,
  MAX_PREVIEW_RUNS,
  type PreviewEntry,
  parseInstant,
  previewExpression,
  readPreviewCount,
  ruleWords,
  type SchedulePreviewJson,
} from "../shared";

/** Help for `dkron schedule`. */
export const SCHEDULE_HELP = `Usage: dkron schedule <command> [options]

Commands:
  preview "<schedule>"   list a schedule's next runs and what DST transitions do to them

Run 'dkron schedule preview --help' for its options.
`;

/** Help for `dkron schedule preview`. */
export const SCHEDULE_PREVIEW_HELP = `Usage: dkron schedule preview "<schedule>" [options]

Lists the next runs of a schedule as a job with these fields would run, each with the zone's
offset, marking the runs in or next to a DST transition and the wall times the dst policy does not
run. Computed here with the scheduler's own code: no server is needed. Quote the schedule.

Options:
  --timezone ZONE    IANA time zone, as the job's timezone (default: UTC)
  --dst POLICY       auto (default), or once|twice and/or transition|skip, e.g. twice,skip
  -n, --count N      how many runs to list, 1 to ${MAX_PREVIEW_RUNS} (default ${DEFAULT_PREVIEW_RUNS})
  --from TIME        list the runs after this RFC3339 instant (default: now);
                     an @every schedule counts from it, as if the job were saved then
  --name NAME        the job's name, which ~ in a cron field is derived from
  --json             print the JSON GET /v1/schedule/preview answers
  -h, --help         show this help

Example:
  dkron schedule preview "0 0 * * * *" --timezone Europe/Berlin --from 2026-10-25T01:30:00+02:00 -n 4
`;

/** What the schedule commands need from the outside world (cli.ts passes the real ones). */
export interface ScheduleCliDeps {
  /** The default for --from. */
  clock: Clock;
  /** Where the answer goes (stdout). */
  out: (text: string) => void;
}

/** `dkron schedule ...`: a user mistake throws AppError VALIDATION with one line naming the option. */
export function scheduleCommand(argv: string[], deps: ScheduleCliDeps): void {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    deps.out(SCHEDULE_HELP);
    return;
  }
  if (sub !== "preview")
    throw new AppError(
      "VALIDATION",
      `unknown schedule command "${sub}" (use preview; see dkron schedule --help)`,
    );
  const v = previewOptions(rest);
  if (v.help) {
    deps.out(SCHEDULE_PREVIEW_HELP);
    return;
  }
  const result = preview(v, deps.clock);
  deps.out(v.json ? `${JSON.stringify(result, null, 2)}\n` : renderPreview(result, v.n));
}

interface PreviewOptions {
  schedule: string;
  timezone: string;
  dst: string;
  n: number;
  from: number | undefined;
  name: string;
  json: boolean;
  help: boolean;
}

function previewOptions(argv: string[]): PreviewOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    const err = e as Error & { code?: string };
    const option = /'([^']+)'/.exec(err.message)?.[1];
    const message =
      err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option
        ? `unknown option ${option}`
        : err.message.replace(/\s*\n\s*/g, " ");
    throw new AppError("VALIDATION", `${message} (see dkron schedule preview --help)`);
  }
  const { values: o, positionals } = parsed;
  const help = o.help === true;
  let n = DEFAULT_PREVIEW_RUNS;
  if (o.count !== undefined) {
    const r = readPreviewCount(o.count);
    if ("problem" in r) throw new AppError("VALIDATION", `-n: ${r.problem}`, { field: "n" });
    n = r.n;
  }
  let from: number | undefined;
  if (o.from !== undefined) {
    const ms = parseInstant(o.from);
    if (ms === null)
      throw new AppError(
        "VALIDATION",
        `--from: expected an RFC3339 time with an offset, such as 2026-10-25T00:00:00+02:00, got "${o.from}"`,
        { field: "from" },
      );
    from = ms;
  }
  // An unquoted `@every 1h` arrives as two words; a cron expression's * would be globbed by the shell.
  const schedule = positionals.join(" ");
  if (!help && schedule.trim() === "")
    throw new AppError(
      "VALIDATION",
      'schedule: give the schedule to preview, quoted, e.g. dkron schedule preview "0 30 9 * * MON-FRI"',
      { field: "schedule" },
    );
  return {
    schedule,
    timezone: o.timezone ?? "",
    dst: o.dst ?? "auto",
    n,
    from,
    name: o.name ?? "",
    json: o.json === true,
    help,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      timezone: { type: "string" },
      dst: { type: "string" },
      count: { type: "string", short: "n" },
      from: { type: "string" },
      name: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
}

/** The option a preview field came from, so an error names what the user typed. */
const OPTION_OF: Record<string, string> = { timezone: "--timezone", dst: "--dst", n: "-n", name: "--name" };

function preview(o: PreviewOptions, clock: Clock): SchedulePreviewJson {
  try {
    // Now, to the second: the header and an @every preview's times read better without milliseconds.
    return previewExpression({ ...o, from: o.from ?? Math.floor(clock.now() / 1000) * 1000 });
  } catch (e) {
    const field = isAppError(e) ? e.details?.field : undefined;
    const option = field === undefined ? undefined : OPTION_OF[field];
    if (!isAppError(e) || option === undefined || !e.message.startsWith(`${field}: `)) throw e;
    throw new AppError(e.code, `${option}${e.message.slice(field!.length)}`, e.details, { cause: e });
  }
}

/**
 * The preview as text: a header naming the zone and the DST rule, then one line per entry (its run
 * number, or `skip` for a wall time the rule does not run; the local time with the zone's offset;
 * the UTC instant; what a DST mark means), and a last line when fewer than `requested` runs follow.
 */
export function renderPreview(p: SchedulePreviewJson, requested: number): string {
  const { policy, rule, reason } = p.dst;
  const lines = [
    `${p.expression} in ${p.timezone}, runs after ${utc(p.from)}`,
    rule === null
      ? `dst ${policy} does not apply (${reason})`
      : `dst ${policy} → ${ruleWords(rule)} (${reason})`,
  ];
  if (p.entries.length === 0) return `${[...lines, "no runs"].join("\n")}\n`;
  let run = 0;
  const rows = [
    ["#", "LOCAL", "UTC", "NOTE"],
    ...p.entries.map((e: PreviewEntry) => [
      e.runs ? String(++run) : "skip",
      e.local,
      utc(e.at),
      e.runs ? (e.note ?? "") : `NOT RUN: ${e.note ?? ""}`,
    ]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  lines.push(
    "",
    ...rows.map((r) =>
      [r[0]!.padStart(widths[0]!), r[1]!.padEnd(widths[1]!), r[2]!.padEnd(widths[2]!), r[3]!]
        .join("  ")
        .trimEnd(),
    ),
  );
  if (run < requested) lines.push(`(${run} of ${requested}: the schedule has no later runs)`);
  return `${lines.join("\n")}\n`;
}

/** RFC3339 UTC without a zero millisecond part. */
function utc(rfc3339: string): string {
  return rfc3339.replace(/\.000Z$/, "Z");
}
