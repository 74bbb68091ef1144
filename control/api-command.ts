/**
 * What the `dkron` commands that call the API (keys, token, runner-token, runner, members) share:
 * their common options and how a mistake in them is reported, the help words, and the text tables
 * and JSON they print. Where the API is and which token to send is api-cli.ts.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { AppError } from "../shared";

/** A parseArgs options table. */
type Options = NonNullable<ParseArgsConfig["options"]>;

/** The options every API command takes: the three of API_OPTIONS_HELP, --json and -h/--help. */
export const API_OPTIONS = {
  "http-addr": { type: "string" },
  token: { type: "string" },
  "data-dir": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

/** What parseApiArgs returns given `extra` options O. */
type ApiArgs<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: typeof API_OPTIONS & O; allowPositionals: true; strict: true }>
>;

/**
 * Parses an API command's arguments: API_OPTIONS plus `extra`, strictly. A mistake is a VALIDATION
 * error (one line and exit 1 in the CLI) that ends with `(hint)`, e.g. "see dkron keys --help".
 */
export function parseApiArgs<const O extends Options>(
  args: string[],
  extra: O,
  hint: string,
  allowPositionals = true,
): ApiArgs<O> {
  try {
    return parseArgs({
      args,
      options: { ...API_OPTIONS, ...extra },
      allowPositionals,
      strict: true,
    }) as ApiArgs<O>;
  } catch (e) {
    throw new AppError("VALIDATION", `${(e as Error).message} (${hint})`);
  }
}

/** Whether a command's first argument names a subcommand: not absent, and not `help`, `-h` or `--help` (which print the help). */
export function isSubcommand(sub: string | undefined): sub is string {
  return !(!sub || sub === "--help" || sub === "-h" || sub === "help");
}

/** Writes to stdout: where an API command prints unless a test passes its own `out`. */
export function toStdout(text: string): void {
  process.stdout.write(text);
}

/** What --json prints: the answer indented by two spaces, then a newline. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * The lines of a text table (the first row its header): each column as wide as its widest cell,
 * columns two spaces apart. `trim` (the default) cuts trailing blanks; without it, a line whose last
 * cell is empty keeps the separator before it (what `dkron members` has always printed).
 */
export function tableLines(rows: string[][], trim = true): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => {
    const line = r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
    return trim ? line.trimEnd() : line;
  });
}

/** A text table (see tableLines) as one string, each line ending in a newline. */
export function table(rows: string[][]): string {
  return `${tableLines(rows).join("\n")}\n`;
}
