import { AppError, type CreatedTokenJson, type TokenJson } from "../shared";
import { API_OPTIONS_HELP, apiCall, apiTarget } from "./api-cli";
import { isSubcommand, jsonText, parseApiArgs, table, toStdout } from "./api-command";

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
  out: (text: string) => void = toStdout,
): Promise<void> {
  const [sub, ...rest] = argv;
  if (!isSubcommand(sub)) return out(TOKEN_HELP);
  const { values: v, positionals } = parseApiArgs(
    rest,
    {
      name: { type: "string" },
      scopes: { type: "string" },
      prefix: { type: "string" },
      "expires-in": { type: "string" },
    },
    "see dkron token --help",
  );
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
      if (v.json) return out(jsonText(t));
      return out(
        `${t.token}\n\ncreated token ${t.id} "${t.name}" (${t.scopes.join(",")}${t.prefix ? `, jobs ${t.prefix}*` : ""}${t.expires_at ? `, expires ${t.expires_at}` : ""}).\nThis is the only time it is shown: store it now.\n`,
      );
    }
    case "list": {
      const list = (await apiCall(target, "GET", "/v1/tokens")) as TokenJson[];
      if (v.json) return out(jsonText(list));
      return out(
        table([
          ["ID", "NAME", "SCOPES", "PREFIX", "EXPIRES", "LAST USED"],
          ...list.map((t) => [
            t.id,
            t.name,
            t.scopes.join(","),
            t.prefix || "-",
            t.expires_at ?? "never",
            t.last_used_at ?? "-",
          ]),
        ]),
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
