import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { AppError, isLoopbackHost, parseOrThrow, splitHostPort } from "../shared";
import { agentHelp } from "./agent-help";
import {
  AGENT_OPTIONS,
  type AgentOption,
  type AgentOptionKey,
  envName,
  flagName,
  META_FLAGS,
  NON_OPTION_ENV,
} from "./agent-options";
import { closestName } from "./closest-name";

/** The version this build reports. */
export const VERSION = "0.1.0";

type Options = typeof AGENT_OPTIONS;
const OPTIONS = Object.entries(AGENT_OPTIONS) as [AgentOptionKey, AgentOption][];

/** The agent's configuration: one schema for flags, DKRON_* env and the config file. */
export const AgentConfigSchema = z
  .object(
    Object.fromEntries(OPTIONS.map(([k, o]) => [k, o.field])) as {
      [K in keyof Options]: Options[K]["field"];
    },
  )
  .superRefine((c, ctx) => {
    if (Boolean(c.tls_cert_file) !== Boolean(c.tls_key_file))
      ctx.addIssue({
        code: "custom",
        path: ["tls_key_file"],
        message: "--tls-cert-file and --tls-key-file go together",
      });
    if (!c.server)
      ctx.addIssue({
        code: "custom",
        path: ["server"],
        message: "this build runs control nodes only: pass --server (runners use dkron-runner)",
      });
    if (c.bootstrap_expect > 1 && c.join.length === 0)
      ctx.addIssue({
        code: "custom",
        path: ["join"],
        message: `--bootstrap-expect ${c.bootstrap_expect} needs --join with the other nodes' addresses`,
      });
    const beyondLoopback = [c.http_addr, c.advertise_addr, ...(c.join ?? [])].find(
      (a): a is string =>
        typeof a === "string" && a !== "" && !isLoopbackHost(splitHostPort(a.replace(/^\w+:\/\//, ""))[0]),
    );
    if ((c.bootstrap_expect > 1 || c.join.length > 0) && !c.cluster_secret && beyondLoopback !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["cluster_secret"],
        message: `is required to form or join a cluster beyond loopback (${beyondLoopback}): pass the same --cluster-secret (or DKRON_CLUSTER_SECRET) to every node`,
      });
    if (c.insecure_no_auth && !isLoopbackHost(splitHostPort(String(c.http_addr))[0]))
      ctx.addIssue({
        code: "custom",
        path: ["insecure_no_auth"],
        message: `is refused on ${c.http_addr}: an API without tokens may only listen on loopback (127.0.0.1, ::1, localhost)`,
      });
    if (c.heartbeat * 3 > c.lease_timeout)
      ctx.addIssue({ code: "custom", path: ["lease_timeout"], message: "must be at least three heartbeats" });
  });

/** The resolved configuration. */
export type AgentConfig = z.output<typeof AgentConfigSchema>;

type FlagSpec = { type: "string" | "boolean"; multiple?: boolean; short?: string };

/** Flags of `dkron agent` (Dkron's names): each option's key with _ → -, its aliases, --config, --help. */
const FLAGS: Record<string, FlagSpec> = {};
for (const [key, o] of OPTIONS) {
  const spec: FlagSpec =
    o.kind === "switch"
      ? { type: "boolean" }
      : o.kind === "list" || o.kind === "tags"
        ? { type: "string", multiple: true }
        : { type: "string" };
  for (const name of [flagName(key), ...(o.aliases ?? [])]) FLAGS[name] = spec;
}
for (const [name, m] of Object.entries(META_FLAGS))
  FLAGS[name] = { type: m.type, ...("short" in m ? { short: m.short } : {}) };

/** Env names that are options (DKRON_CONFIG included), for the unknown-name check and suggestions. */
const ENV_NAMES = new Set([...OPTIONS.map(([k]) => envName(k)), "DKRON_CONFIG"]);

/** Help text for `dkron agent`, from the options table. */
export const AGENT_HELP = agentHelp();

function parseTags(list: readonly string[], field: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf("=");
    if (i <= 0) throw new AppError("VALIDATION", `${field}: expected key=value, got "${kv}"`, { field });
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

function readBool(v: string, source: string, key: string): boolean {
  if (!/^(true|false|1|0)$/i.test(v))
    throw new AppError("VALIDATION", `${source}: expected true or false, got "${v}"`, { field: key });
  return /^(true|1)$/i.test(v);
}

/** A flag's or env variable's value as the schema expects it; `source` names it in errors. */
function readValue(key: string, o: AgentOption, raw: string | boolean | string[], source: string): unknown {
  switch (o.kind) {
    case "switch":
    case "bool":
      return typeof raw === "boolean" ? raw : readBool(String(raw), source, key);
    case "int":
      if (!/^\d+$/.test(String(raw)))
        throw new AppError("VALIDATION", `${source}: expected a whole number, got "${raw}"`, { field: key });
      return Number(raw);
    case "list":
      // A repeated flag comes as an array; env is comma-separated.
      return Array.isArray(raw) ? raw : String(raw).split(",").filter(Boolean);
    case "tags":
      return parseTags(Array.isArray(raw) ? raw : String(raw).split(","), source);
    default:
      return raw;
  }
}

/** "unknown option" for each name, with the closest candidate when one is a plausible typo. */
function unknownOptions(names: string[], candidates: Iterable<string>, normalize = (n: string) => n): string {
  return names
    .map((n) => {
      const near = closestName(normalize(n), candidates);
      return `unknown option "${n}"${near ? ` (did you mean "${near}"?)` : ""}`;
    })
    .join("; ");
}

const snakeCase = (k: string) => k.replace(/-/g, "_");

/** The config file's keys (kebab-case read as snake_case); a key that names no option is an error. */
function readConfigFile(file: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new AppError("VALIDATION", `config: cannot read ${file} as JSON: ${(e as Error).message}`, {
      field: "config",
    });
  }
  if (typeof raw !== "object" || raw === null)
    throw new AppError("VALIDATION", `config: ${file} must hold a JSON object`, { field: "config" });
  const out: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [k, val] of Object.entries(raw)) {
    const key = snakeCase(k);
    if (Object.hasOwn(AGENT_OPTIONS, key)) out[key] = val;
    else unknown.push(k);
  }
  if (unknown.length)
    throw new AppError(
      "VALIDATION",
      `config file ${file}: ${unknownOptions(unknown, Object.keys(AGENT_OPTIONS), snakeCase)}`,
      { field: unknown[0] },
    );
  return out;
}

/** A DKRON_* variable that names no option (and is not on the NON_OPTION_ENV list) is an error. */
function rejectUnknownEnv(env: Record<string, string | undefined>): void {
  const unknown = Object.keys(env).filter(
    (n) => n.startsWith("DKRON_") && env[n] !== undefined && !ENV_NAMES.has(n) && !NON_OPTION_ENV.has(n),
  );
  if (unknown.length)
    throw new AppError("VALIDATION", `environment: ${unknownOptions(unknown, ENV_NAMES)}`, {
      field: unknown[0],
    });
}

/**
 * Resolves the agent config once: flags over env DKRON_* over the config file over defaults,
 * validated by one zod schema. Throws AppError VALIDATION naming the option on bad input, and on
 * a config-file key or DKRON_* variable that names no option.
 */
export function loadAgentConfig(
  argv: string[],
  env: Record<string, string | undefined>,
): { config: AgentConfig; help: boolean } {
  let v: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    v = parseArgs({ args: argv, options: FLAGS, allowPositionals: false, strict: true }).values;
  } catch (e) {
    throw new AppError("VALIDATION", `${(e as Error).message} (see dkron agent --help)`);
  }
  if (v.help) return { config: undefined as unknown as AgentConfig, help: true };

  const file = (v.config as string | undefined) ?? env.DKRON_CONFIG;
  const merged: Record<string, unknown> = file ? readConfigFile(file) : {};
  rejectUnknownEnv(env);

  const set = (key: string, o: AgentOption, raw: string | boolean | string[], source: string) => {
    const value = readValue(key, o, raw, source);
    // Tags from every source add up; any other value from a higher source replaces a lower one's.
    merged[key] = o.kind === "tags" ? { ...(merged[key] as object), ...(value as object) } : value;
  };
  for (const [key, o] of OPTIONS) {
    const e = env[envName(key)];
    if (e !== undefined && e !== "") set(key, o, e, envName(key));
  }
  for (const [key, o] of OPTIONS) {
    for (const flag of [flagName(key), ...(o.aliases ?? [])]) {
      const val = v[flag];
      if (val !== undefined) set(key, o, val as string | boolean | string[], `--${flag}`);
    }
  }
  return { config: parseOrThrow(AgentConfigSchema, merged, "config"), help: false };
}

/** The config as logged at start-up: secrets (the table's `secret` options) redacted. */
export function redacted(c: AgentConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...c };
  for (const [key, o] of OPTIONS) {
    const v = c[key];
    if (o.secret) out[key] = (Array.isArray(v) ? v.length > 0 : Boolean(v)) ? "***" : "";
  }
  return out;
}
