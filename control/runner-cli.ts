import { AppError, type CreatedJoinTokenJson, type JoinTokenJson, type RunnerJson } from "../shared";
import { API_OPTIONS_HELP, apiCall, apiTarget } from "./api-cli";
import { isSubcommand, jsonText, parseApiArgs, table, toStdout } from "./api-command";

/** Help for `dkron runner-token`. */
export const RUNNER_TOKEN_HELP = `Usage: dkron runner-token <create|list|revoke> [options]

  create [--ttl 24h] [--single-use] [--tags k=v[,k=v]]
                          create a join token for dkron-runner join; it is printed once
  list                    list join tokens (never their secrets)
  revoke ID               revoke a join token: no runner joins with it any more (runners
                          that joined with it keep their own credentials)

A join token is exchanged by 'dkron-runner join' for the runner's own credential. --tags are
given to every runner that joins with it and win over the tags the runner asks for.
--single-use tokens are spent by the first join (also across a leader change).

Options:
${API_OPTIONS_HELP}
  --json                  print JSON instead of text
  -h, --help              show this help
`;

/** Help for `dkron runner`. */
export const RUNNER_HELP = `Usage: dkron runner <list|revoke> [options]

  list                    registered runners: tags, when they joined, whether connected
  revoke NAME             delete a runner's credential and cut its stream now; it never
                          works again (the runner must join anew with a new join token)

Options:
${API_OPTIONS_HELP}
  --json                  print JSON instead of text
  -h, --help              show this help
`;

/** Parses `k=v` pairs (comma-separated or repeated) into a map; a bad one names itself. */
export function parseTagPairs(values: readonly string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const part of values.flatMap((v) => v.split(","))) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf("=");
    if (eq <= 0) throw new AppError("VALIDATION", `--tags: "${p}" is not k=v`);
    tags[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return tags;
}

/** `dkron runner-token ...`. */
export async function runnerTokenCommand(
  argv: string[],
  env: Record<string, string | undefined>,
  out: (text: string) => void = toStdout,
): Promise<void> {
  const [sub, ...rest] = argv;
  if (!isSubcommand(sub)) return out(RUNNER_TOKEN_HELP);
  const { values: v, positionals } = parse(rest, "runner-token");
  if (v.help) return out(RUNNER_TOKEN_HELP);
  const target = apiTarget(v, env);
  switch (sub) {
    case "create": {
      const body = {
        ...(v.ttl !== undefined && { ttl: v.ttl }),
        ...(v["single-use"] && { single_use: true }),
        ...(v.tags && { tags: parseTagPairs(v.tags) }),
      };
      const t = (await apiCall(target, "POST", "/v1/runner-tokens", body)) as CreatedJoinTokenJson;
      if (v.json) return out(jsonText(t));
      const tags = Object.entries(t.tags).map(([k, val]) => `${k}=${val}`);
      return out(
        `${t.token}\n\ncreated join token ${t.id} (${t.single_use ? "single-use, " : ""}expires ${t.expires_at}${tags.length ? `, tags ${tags.join(",")}` : ""}).\nThis is the only time it is shown. On the runner's host:\n  npx dkron-runner join ${target.url} --token ${t.token}\n`,
      );
    }
    case "list": {
      const list = (await apiCall(target, "GET", "/v1/runner-tokens")) as JoinTokenJson[];
      if (v.json) return out(jsonText(list));
      return out(
        table([
          ["ID", "SINGLE-USE", "TAGS", "EXPIRES", "USES", "LAST USED BY"],
          ...list.map((t) => [
            t.id,
            t.single_use ? (t.uses > 0 ? "spent" : "yes") : "no",
            tagText(t.tags),
            t.expires_at ?? "never",
            String(t.uses),
            t.used_by ?? "-",
          ]),
        ]),
      );
    }
    case "revoke": {
      const id = positionals[0];
      if (!id)
        throw new AppError(
          "VALIDATION",
          "runner-token revoke needs the token's ID (see dkron runner-token list)",
        );
      const t = (await apiCall(
        target,
        "DELETE",
        `/v1/runner-tokens/${encodeURIComponent(id)}`,
      )) as JoinTokenJson;
      return out(`revoked join token ${t.id}\n`);
    }
    default:
      throw new AppError("VALIDATION", `unknown runner-token command "${sub}" (use create, list or revoke)`);
  }
}

/** `dkron runner ...`. */
export async function runnerCommand(
  argv: string[],
  env: Record<string, string | undefined>,
  out: (text: string) => void = toStdout,
): Promise<void> {
  const [sub, ...rest] = argv;
  if (!isSubcommand(sub)) return out(RUNNER_HELP);
  const { values: v, positionals } = parse(rest, "runner");
  if (v.help) return out(RUNNER_HELP);
  const target = apiTarget(v, env);
  switch (sub) {
    case "list": {
      const list = (await apiCall(target, "GET", "/v1/runners")) as RunnerJson[];
      if (v.json) return out(jsonText(list));
      return out(
        table([
          ["NAME", "CONNECTED", "TAGS", "JOINED", "JOIN TOKEN"],
          ...list.map((r) => [
            r.name,
            r.draining ? "draining" : r.connected ? "yes" : "no",
            tagText(r.live_tags ?? r.tags),
            r.joined_at,
            r.join_token,
          ]),
        ]),
      );
    }
    case "revoke": {
      const name = positionals[0];
      if (!name)
        throw new AppError("VALIDATION", "runner revoke needs the runner's NAME (see dkron runner list)");
      const r = (await apiCall(target, "DELETE", `/v1/runners/${encodeURIComponent(name)}`)) as RunnerJson;
      return out(`revoked runner ${r.name}: its credential no longer works and its stream was cut\n`);
    }
    default:
      throw new AppError("VALIDATION", `unknown runner command "${sub}" (use list or revoke)`);
  }
}

function tagText(tags: Record<string, string>): string {
  const t = Object.entries(tags).map(([k, v]) => `${k}=${v}`);
  return t.length ? t.join(",") : "-";
}

/** The options of both commands (runner takes runner-token's create flags too, and ignores them). */
const OPTIONS = {
  ttl: { type: "string" },
  "single-use": { type: "boolean" },
  tags: { type: "string", multiple: true },
} as const;

function parse(argv: string[], cmd: string) {
  return parseApiArgs(argv, OPTIONS, `see dkron ${cmd} --help`);
}
