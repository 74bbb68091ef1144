import { AGENT_OPTIONS, type AgentOption, flagName, META_FLAGS } from "./agent-options";

const COLUMN = 28;
const WIDTH = 104;

/** --help's wording of an option's default, or undefined when there is nothing worth saying. */
function shownDefault(o: AgentOption): string | undefined {
  if (o.shown !== undefined) return o.shown;
  // A switch is off unless given, and an empty list or map says nothing.
  if (o.kind === "switch" || o.default === undefined) return undefined;
  if (typeof o.default === "object" && Object.keys(o.default as object).length === 0) return undefined;
  if (o.kind === "duration") return formatMs(o.default as number);
  return String(o.default);
}

function formatMs(ms: number): string {
  if (ms > 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms > 0 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** One --help entry: the flag column, then the doc word-wrapped under itself. */
function entry(flag: string, doc: string, dflt?: string): string {
  const left = `  ${flag}`;
  const lines: string[] = [];
  let line = left.length < COLUMN ? left.padEnd(COLUMN) : `${left}  `;
  let words = 0;
  // The default is one unit, so "(default: none, with a warning)" is not split across lines.
  for (const word of [...doc.split(" "), ...(dflt ? [`(default: ${dflt})`] : [])]) {
    if (words > 0 && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = " ".repeat(COLUMN) + word;
    } else line += words > 0 ? ` ${word}` : word;
    words++;
  }
  return [...lines, line].join("\n");
}

/** The text of `dkron agent --help`: every option of the table with its doc and default. */
export function agentHelp(): string {
  const options = (Object.entries(AGENT_OPTIONS) as [string, AgentOption][]).map(([key, o]) =>
    entry(`--${flagName(key)}${o.arg ? ` ${o.arg}` : ""}`, o.doc, shownDefault(o)),
  );
  return `Usage: dkron agent --server [options]

Starts a control node: the /v1 API, the scheduler, and (by default) a local runner.

Options (each also reads env DKRON_<NAME>, e.g. DKRON_HTTP_ADDR, and a key in --config FILE; an
unknown key in the file or an unknown DKRON_* name is an error):
${[
  ...options,
  entry(`--config ${META_FLAGS.config.arg}`, META_FLAGS.config.doc),
  entry(`-${META_FLAGS.help.short}, --help`, META_FLAGS.help.doc),
].join("\n")}
`;
}
