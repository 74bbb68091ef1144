import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { z } from "zod";
import { AppError } from "../shared/errors";
import { durationMs } from "../shared/time";
import { parseOrThrow } from "../shared/validation";

/** The version this build reports. */
export const VERSION = "0.1.0";

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]*):\d{1,5}$/, "expected HOST:PORT, e.g. 127.0.0.1:8080 or :8080")
  .transform((s) => (s.startsWith(":") ? `0.0.0.0${s}` : s));

/** The agent's configuration: one schema for flags, DKRON_* env and the config file. */
export const AgentConfigSchema = z
  .object({
    server: z.boolean().default(false),
    bootstrap_expect: z.number().int().min(0).max(9).default(0),
    node_name: z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9_.-]+$/, "use letters, digits, _ . and -")
      .default(hostname().replace(/[^A-Za-z0-9_.-]/g, "-")),
    data_dir: z.string().min(1).default("dkron.data"),
    http_addr: hostPort.default("127.0.0.1:8080"),
    advertise_addr: hostPort.optional(),
    tags: z.record(z.string(), z.string()).default({}),
    join: z.array(z.string()).default([]),
    datacenter: z.string().default("dc1"),
    region: z.string().default("global"),
    log_level: z.enum(["debug", "info", "warn", "error"]).default("info"),
    /** Executions kept per job (Dkron: 100, fixed). */
    execution_retention: z.number().int().min(1).max(100_000).default(100),
    /** SIGTERM: how long running executions may take to finish before they are cancelled. */
    shutdown_grace: durationMs.default(30_000),
    /** A running execution no runner reports for this long becomes `lost`. */
    lease_timeout: durationMs.default(30_000),
    /** On gaining leadership, wait up to this long for a runner to connect before scheduling. */
    runner_settle: durationMs.default(5000),
    /** Runner heartbeat interval. */
    heartbeat: durationMs.default(5000),
    /** Run the local runner in this process (Dkron servers run jobs too). */
    local_runner: z.boolean().default(true),
    /** Secret runners present to connect; generated per process when empty. */
    runner_token: z.string().default(""),
    /** Secret the edge (Worker) presents to the control-api; empty = none. */
    control_token: z.string().default(""),
    /** Secret control nodes present to each other (Raft RPC, forwarding); empty = unauthenticated. */
    cluster_secret: z.string().default(""),
    /** PEM certificate and key: serve HTTPS/WSS (API, Raft RPC, runners) instead of HTTP. */
    tls_cert_file: z.string().optional(),
    tls_key_file: z.string().optional(),
    /** Raft timing: default = election timeouts in [1000, 2000) ms, fast = [300, 600) ms. */
    raft_profile: z.enum(["default", "fast"]).default("default"),
    /** Entries applied between state snapshots (then the log behind them is compacted). */
    raft_snapshot_threshold: z.number().int().min(16).default(8192),
  })
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
    if (c.heartbeat * 3 > c.lease_timeout)
      ctx.addIssue({ code: "custom", path: ["lease_timeout"], message: "must be at least three heartbeats" });
  });

/** The resolved configuration. */
export type AgentConfig = z.output<typeof AgentConfigSchema>;

/** Flags of `dkron agent` (Dkron's names); value flags map to config keys with - → _. */
const FLAGS = {
  server: { type: "boolean" },
  "bootstrap-expect": { type: "string" },
  "node-name": { type: "string" },
  "data-dir": { type: "string" },
  "http-addr": { type: "string" },
  "advertise-addr": { type: "string" },
  tags: { type: "string", multiple: true },
  tag: { type: "string", multiple: true },
  join: { type: "string", multiple: true },
  datacenter: { type: "string" },
  region: { type: "string" },
  "log-level": { type: "string" },
  "execution-retention": { type: "string" },
  "shutdown-grace": { type: "string" },
  "lease-timeout": { type: "string" },
  heartbeat: { type: "string" },
  "runner-settle": { type: "string" },
  "local-runner": { type: "string" },
  "runner-token": { type: "string" },
  "control-token": { type: "string" },
  "cluster-secret": { type: "string" },
  "raft-profile": { type: "string" },
  "raft-snapshot-threshold": { type: "string" },
  "tls-cert-file": { type: "string" },
  "tls-key-file": { type: "string" },
  config: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Help text for `dkron agent`. */
export const AGENT_HELP = `Usage: dkron agent --server [options]

Starts a control node: the /v1 API, the scheduler, and (by default) a local runner.

Options (each also reads env DKRON_<NAME>, e.g. DKRON_HTTP_ADDR, and a key in --config FILE):
  --server                  run as a control node (required)
  --bootstrap-expect N      expected control nodes; 1 = single-node cluster
  --node-name NAME          unique node name (default: hostname)
  --data-dir DIR            where the SQLite state lives (default: dkron.data)
  --http-addr HOST:PORT     API address (default: 127.0.0.1:8080)
  --advertise-addr H:P      address others reach this node at (default: http-addr)
  --tags k=v                node tag, repeatable (also --tag)
  --join H:P                a peer's HTTP address, repeatable (cluster mode)
  --datacenter NAME         dc tag (default: dc1)
  --region NAME             region tag (default: global)
  --log-level LEVEL         debug, info, warn, error (default: info)
  --execution-retention N   executions kept per job (default: 100)
  --shutdown-grace DUR      SIGTERM: time for running jobs to finish (default: 30s)
  --lease-timeout DUR       a running execution nobody reports becomes lost (default: 30s)
  --heartbeat DUR           runner heartbeat (default: 5s)
  --runner-settle DUR       new leader waits this long for a runner before scheduling (default: 5s)
  --local-runner BOOL       run jobs in this process too (default: true)
  --runner-token SECRET     secret runners present (default: random per start)
  --control-token SECRET    secret the edge presents to the control API (default: none)
  --cluster-secret SECRET   secret control nodes present to each other (default: none, with a warning)
  --tls-cert-file F         serve HTTPS/WSS with this PEM certificate (with --tls-key-file); trust a
                            private CA with NODE_EXTRA_CA_CERTS=ca.pem
  --tls-key-file F          PEM private key for --tls-cert-file
  --raft-profile P          default (elections in 1-2 s) or fast (0.3-0.6 s)
  --raft-snapshot-threshold N  entries between state snapshots; the log behind one is compacted (default: 8192)
  --config FILE             JSON config file with the keys above (snake_case or kebab-case)
  -h, --help                show this help
`;

function parseTags(list: readonly string[], field: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf("=");
    if (i <= 0) throw new AppError("VALIDATION", `${field}: expected key=value, got "${kv}"`, { field });
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

const numberKeys = new Set(["bootstrap_expect", "execution_retention", "raft_snapshot_threshold"]);
const boolKeys = new Set(["server", "local_runner"]);

function coerce(key: string, v: string, source: string): unknown {
  if (numberKeys.has(key)) {
    if (!/^\d+$/.test(v))
      throw new AppError("VALIDATION", `${source}: expected a whole number, got "${v}"`, { field: key });
    return Number(v);
  }
  if (boolKeys.has(key)) {
    if (!/^(true|false|1|0)$/i.test(v))
      throw new AppError("VALIDATION", `${source}: expected true or false, got "${v}"`, { field: key });
    return /^(true|1)$/i.test(v);
  }
  return v;
}

/**
 * Resolves the agent config once: flags over env DKRON_* over the config file over defaults,
 * validated by one zod schema. Throws AppError VALIDATION naming the option on bad input.
 */
export function loadAgentConfig(
  argv: string[],
  env: Record<string, string | undefined>,
): { config: AgentConfig; help: boolean } {
  let parsed: ReturnType<
    typeof parseArgs<{ options: typeof FLAGS; allowPositionals: false; strict: true; args: string[] }>
  >;
  try {
    parsed = parseArgs({ args: argv, options: FLAGS, allowPositionals: false, strict: true });
  } catch (e) {
    throw new AppError("VALIDATION", `${(e as Error).message} (see dkron agent --help)`);
  }
  const v = parsed.values;
  if (v.help) return { config: undefined as unknown as AgentConfig, help: true };
  const merged: Record<string, unknown> = {};

  const file = v.config ?? env.DKRON_CONFIG;
  if (file) {
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
    for (const [k, val] of Object.entries(raw)) merged[k.replace(/-/g, "_")] = val;
  }

  for (const key of Object.keys(AgentConfigSchema.shape)) {
    const e = env[`DKRON_${key.toUpperCase()}`];
    if (e === undefined || e === "") continue;
    if (key === "tags")
      merged.tags = { ...(merged.tags as object), ...parseTags(e.split(","), "DKRON_TAGS") };
    else if (key === "join") merged.join = e.split(",").filter(Boolean);
    else merged[key] = coerce(key, e, `DKRON_${key.toUpperCase()}`);
  }

  for (const [flag, val] of Object.entries(v)) {
    if (val === undefined || flag === "config" || flag === "help") continue;
    const key = flag.replace(/-/g, "_");
    if (flag === "tags" || flag === "tag")
      merged.tags = { ...(merged.tags as object), ...parseTags(val as string[], `--${flag}`) };
    else if (flag === "join") merged.join = val;
    else if (typeof val === "boolean") merged[key] = val;
    else merged[key] = coerce(key, val as string, `--${flag}`);
  }
  return { config: parseOrThrow(AgentConfigSchema, merged, "config"), help: false };
}

/** The config as logged at start-up: secrets redacted. */
export function redacted(c: AgentConfig): Record<string, unknown> {
  return {
    ...c,
    runner_token: c.runner_token ? "***" : "",
    control_token: c.control_token ? "***" : "",
    cluster_secret: c.cluster_secret ? "***" : "",
  };
}
