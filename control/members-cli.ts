import { AppError, type Member } from "../shared";
import { API_OPTIONS_HELP, apiCall, apiTarget } from "./api-cli";
import { parseApiArgs, tableLines } from "./api-command";

/** Help for `dkron members`. */
export const MEMBERS_HELP = `Usage: dkron members [options]

Lists every member of the gossip pool (control nodes and runners) as the node asked sees it:
name, gossip address, status (alive, failed, left), role, version, and on the leader whether a
runner's stream is up. Same as GET /v1/members.

Options:
${API_OPTIONS_HELP}
  --json                  print the members as JSON
`;

/** Help for `dkron keygen`. */
export const KEYGEN_HELP = `Usage: dkron keygen

Prints a new gossip encryption key (32 random bytes, base64) for --encrypt.
`;

/** `dkron members`: one line per member, or the JSON of GET /v1/members. */
export async function membersCommand(argv: string[], env: Record<string, string | undefined>): Promise<void> {
  const v = parseApiArgs(argv, {}, "see --help", false).values;
  if (v.help) {
    process.stdout.write(MEMBERS_HELP);
    return;
  }
  const members = (await apiCall(apiTarget(v, env), "GET", "/v1/members")) as Member[];
  if (v.json) {
    console.log(JSON.stringify(members, null, 2));
    return;
  }
  const rows = [
    ["NAME", "ADDRESS", "STATUS", "ROLE", "VERSION", "STREAM", "TAGS"],
    ...members.map((m) => {
      const { role = "", version = "", stream = "", gossip_addr, ...tags } = m.Tags;
      const own = Object.entries(tags)
        .filter(([k]) => !/^(raft_|dkron_)/.test(k))
        .map(([k, x]) => `${k}=${x}`)
        .join(",");
      return [m.Name, gossip_addr ?? `${m.Addr}:${m.Port}`, m.statusText, role, version, stream || "-", own];
    }),
  ];
  for (const line of tableLines(rows, false)) console.log(line);
}

/** `dkron keygen`: prints a fresh key (the gossip library makes it; passed in by the CLI's root). */
export function keygenCommand(argv: string[], generate: () => string): void {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(KEYGEN_HELP);
    return;
  }
  if (argv.length > 0) throw new AppError("VALIDATION", `dkron keygen takes no arguments (got ${argv[0]})`);
  console.log(generate());
}
