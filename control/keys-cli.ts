import { AppError, GossipKeySchema, type KeyringListJson } from "../shared";
import { API_OPTIONS_HELP, apiCall, apiTarget } from "./api-cli";
import { isSubcommand, jsonText, parseApiArgs, table, toStdout } from "./api-command";

/** Help for `dkron keys`. */
export const KEYS_HELP = `Usage: dkron keys <list|install|use|remove> [KEY] [options]

Rotates the gossip encryption key of the whole pool (control nodes and runners), as Serf's
'keys' command does. Every member encrypts with the primary key and opens datagrams sealed
with any installed key, so a rotation never splits the pool:

  list                    installed keys, which one is primary, how many live members hold
                          each and encrypt with it (with the names of any that lack it)
  install KEY             add KEY to every member's keyring (it does not encrypt yet)
  use KEY                 make the installed KEY the primary: members encrypt with it from now on
  remove KEY              drop KEY everywhere; the primary key cannot be removed

A rotation:  dkron keys install NEW; dkron keys use NEW; dkron keys remove OLD
(make NEW with 'dkron keygen'; before 'use', wait for 'dkron keys list' to show NEW held by
every member (MEMBERS n/n), before 'remove', encrypted with by every member (ENCRYPTING n/n)).
Needs an admin token; the keyring is replicated through Raft.

Options:
${API_OPTIONS_HELP}
  --json                  print the keyring as JSON (list shows the keys themselves)
  -h, --help              show this help
`;

const VERB = { install: "POST", use: "PUT", remove: "DELETE" } as const;

/** `dkron keys ...`. */
export async function keysCommand(
  argv: string[],
  env: Record<string, string | undefined>,
  out: (text: string) => void = toStdout,
): Promise<void> {
  const [sub, ...rest] = argv;
  if (!isSubcommand(sub)) return out(KEYS_HELP);
  const { values: v, positionals } = parseApiArgs(rest, {}, "see dkron keys --help");
  if (v.help) return out(KEYS_HELP);
  if (sub !== "list" && !(sub in VERB))
    throw new AppError("VALIDATION", `unknown keys command "${sub}" (use list, install, use or remove)`);
  let key: string | undefined;
  if (sub !== "list") {
    if (positionals.length !== 1)
      throw new AppError("VALIDATION", `keys ${sub} needs exactly one KEY (see dkron keys --help)`);
    const r = GossipKeySchema.safeParse(positionals[0]);
    if (!r.success) throw new AppError("VALIDATION", `KEY: ${r.error.issues[0]?.message}`);
    key = r.data;
  } else if (positionals.length) throw new AppError("VALIDATION", "keys list takes no KEY");
  const target = apiTarget(v, env);
  const ring = (
    key === undefined
      ? await apiCall(target, "GET", "/v1/keys")
      : await apiCall(target, VERB[sub as keyof typeof VERB], "/v1/keys", { key })
  ) as KeyringListJson;
  if (v.json) return out(jsonText(ring));
  if (key !== undefined) {
    const done = { install: "installed", use: "now primary:", remove: "removed" }[sub as keyof typeof VERB];
    // Name the key by fingerprint: the terminal's scrollback is no place for it.
    const fp = ring.keys.find((k) => k.key === key)?.fingerprint ?? "";
    out(`${done} key ${fp || key.slice(0, 4)}…\n`);
  }
  return out(keyTable(ring));
}

/** The keyring as Serf's `keys list` shows it: each key, primary first, with members holding it. */
export function keyTable(ring: KeyringListJson): string {
  if (!ring.encrypted) return "gossip encryption is off (no --encrypt key): nothing to list\n";
  const rows = [
    ["KEY", "FINGERPRINT", "PRIMARY", "MEMBERS", "ENCRYPTING", "MISSING"],
    ...ring.keys.map((k) => [
      k.key,
      k.fingerprint,
      k.primary ? "yes" : "no",
      `${k.members}/${ring.total}`,
      `${k.encrypting}/${ring.total}`,
      k.missing.length ? k.missing.join(",") : "-",
    ]),
  ];
  const note = ring.source === "flags" ? "(from --encrypt: no keys operation yet)\n" : "";
  return `${table(rows)}${note}`;
}
