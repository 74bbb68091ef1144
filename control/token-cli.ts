import { parseArgs } from "node:util";
import { AppError, type CreatedTokenJson, type TokenJson } from "../shared";
import { API_OPTIONS_HELP, apiCall, apiTarget } from "./api-cli";

/** Help for `dkron token`. */
export const TOKEN_HELP = `Usage: dkron token <create|list|revoke> [options]

  create --name NAME --scopes read,write[,run,admin] [--prefix P] [--expires-in 720h]
                          create an API token; it is printed once, keep it
  list                    list tokens (never their secrets)
  revoke ID               revoke a token: every node refuses it from then on

Scopes: read (list, get), write (create, change, delete jobs; implies read), run (start
jobs; implies read), admin (tokens, audit log, pause, leave; implies all). --prefix limits
a token to jobs whose name starts with P.

Options:
${API_OPTIONS_HELP}
  --json                  print JSON instead of text
  -h, --help              show this help
`;

/** `dkron token ...`; `out` prints to stdout. */
export async function tokenCommand(
  argv: string[],
  env: Record<string, string | undefined>,
  out: (text: string) => void = (t) => process.stdout.write(t),
): Promise<void> {
  const [sub, ...rest] = argv;
  if (!sub || sub === "--help" || sub === "-h" || sub === "help") return out(TOKEN_HELP);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(rest);
  } catch (e) {
    throw new AppError("VALIDATION", `${(e as Error).message} (see dkron token --help)`);
  }
  const { values: v, positionals } = parsed;
  if (v.help) return out(TOKEN_HELP);
  const target = apiTarget(v, env);
  switch (sub) {
    case "create": {
      if (!v.name) throw new AppError("VALIDATION", "token create needs --name NAME");
      if (!v.scopes)
        throw new AppError("VALIDATION", "token create needs --scopes (read, write, run, admin)");
      const body = {
        name: v.name,
        scopes: v.scopes
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
        ...(v.prefix !== undefined && { prefix: v.prefix }),
        ...(v["expires-in"] !== undefined && { expires_in: v["expires-in"] }),
      };
      const t = (await apiCall(target, "POST", "/v1/tokens", body)) as CreatedTokenJson;
      if (v.json) return out(`${JSON.stringify(t, null, 2)}\n`);
      return out(
        `${t.token}\n\ncreated token ${t.id} "${t.name}" (${t.scopes.join(",")}${t.prefix ? `, jobs ${t.prefix}*` : ""}${t.expires_at ? `, expires ${t.expires_at}` : ""}).\nThis is the only time it is shown: store it now.\n`,
      );
    }
    case "list": {
      const list = (await apiCall(target, "GET", "/v1/tokens")) as TokenJson[];
      if (v.json) return out(`${JSON.stringify(list, null, 2)}\n`);
      const rows = [
        ["ID", "NAME", "SCOPES", "PREFIX", "EXPIRES", "LAST USED"],
        ...list.map((t) => [
          t.id,
          t.name,
          t.scopes.join(","),
          t.prefix || "-",
          t.expires_at ?? "never",
          t.last_used_at ?? "-",
        ]),
      ];
      const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      return out(
        `${rows
          .map((r) =>
            r
              .map((c, i) => c.padEnd(w[i]!))
              .join("  ")
              .trimEnd(),
          )
          .join("\n")}\n`,
      );
    }
    case "revoke": {
      const id = positionals[0];
      if (!id) throw new AppError("VALIDATION", "token revoke needs the token's ID (see dkron token list)");
      const t = (await apiCall(target, "DELETE", `/v1/tokens/${encodeURIComponent(id)}`)) as TokenJson;
      return out(`revoked token ${t.id} "${t.name}"\n`);
    }
    default:
      throw new AppError("VALIDATION", `unknown token command "${sub}" (use create, list or revoke)`);
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      "http-addr": { type: "string" },
      token: { type: "string" },
      "data-dir": { type: "string" },
      name: { type: "string" },
      scopes: { type: "string" },
      prefix: { type: "string" },
      "expires-in": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
}
