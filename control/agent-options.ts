import { hostname } from "node:os";
import { z } from "zod";
import { durationMs } from "../shared";

/**
 * How a flag or DKRON_* value (always a string) becomes what the schema checks: `switch` is a flag
 * without a value (--server); `bool` reads true/false/1/0; `int` a whole number; `text` and
 * `duration` pass the string on (the schema parses "30s"); `list` and `tags` repeat as flags and
 * are comma-separated in env (tags as key=value).
 */
export type OptionKind = "switch" | "bool" | "int" | "text" | "duration" | "list" | "tags";

/** What an option declares besides its default. */
interface OptionSpec<S extends z.ZodType> {
  kind: OptionKind;
  /** The value's schema, without its default. */
  schema: S;
  /** One line for --help. */
  doc: string;
  /** Placeholder of the value in --help (none for a switch). */
  arg?: string;
  /** --help's wording of the default where the value says little (a computed or empty one). */
  shown?: string;
  /** More flag names for the same option (--tag for --tags). */
  aliases?: readonly string[];
  /** Redacted when the resolved config is logged. */
  secret?: boolean;
}

/** One option of `dkron agent`: key = config key; flag = key with _ → -; env = DKRON_<KEY>. */
export interface AgentOption<F extends z.ZodType = z.ZodType> extends OptionSpec<z.ZodType> {
  /** The default; undefined when the option may stay unset. */
  default: unknown;
  /** The schema with the default applied: the field of AgentConfigSchema. */
  field: F;
}

function option<S extends z.ZodType>(
  o: OptionSpec<S> & { default: z.output<S> },
): AgentOption<z.ZodDefault<S>>;
function option<S extends z.ZodType>(o: OptionSpec<S>): AgentOption<z.ZodOptional<S>>;
function option<S extends z.ZodType>(o: OptionSpec<S> & { default?: z.output<S> }): AgentOption {
  const field = o.default === undefined ? o.schema.optional() : o.schema.default(o.default as never);
  return { ...o, default: o.default, field };
}

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]*):\d{1,5}$/, "expected HOST:PORT, e.g. 127.0.0.1:8080 or :8080")
  .transform((s) => (s.startsWith(":") ? `0.0.0.0${s}` : s));

/**
 * Every option of `dkron agent`, declared once: the parseArgs flags, the --help text and the zod
 * schema (control/config.ts) are derived from this table. Order is --help's order.
 */
export const AGENT_OPTIONS = {
  server: option({
    kind: "switch",
    schema: z.boolean(),
    default: false,
    doc: "run as a control node (required)",
  }),
  bootstrap_expect: option({
    kind: "int",
    schema: z.number().int().min(0).max(9),
    default: 0,
    arg: "N",
    doc: "expected control nodes; 1 = single-node cluster",
  }),
  node_name: option({
    kind: "text",
    schema: z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9_.-]+$/, "use letters, digits, _ . and -"),
    default: hostname().replace(/[^A-Za-z0-9_.-]/g, "-"),
    arg: "NAME",
    shown: "hostname",
    doc: "unique node name",
  }),
  data_dir: option({
    kind: "text",
    schema: z.string().min(1),
    default: "dkron.data",
    arg: "DIR",
    doc: "where the SQLite state lives",
  }),
  http_addr: option({
    kind: "text",
    schema: hostPort,
    default: "127.0.0.1:8080",
    arg: "HOST:PORT",
    doc: "API address",
  }),
  advertise_addr: option({
    kind: "text",
    schema: hostPort,
    arg: "H:P",
    shown: "http-addr",
    doc: "address others reach this node at",
  }),
  tags: option({
    kind: "tags",
    schema: z.record(z.string(), z.string()),
    default: {},
    arg: "k=v",
    aliases: ["tag"],
    doc: "node tag, repeatable (also --tag)",
  }),
  join: option({
    kind: "list",
    schema: z.array(z.string()),
    default: [],
    arg: "H:P",
    doc: "a peer's HTTP address, repeatable (cluster mode)",
  }),
  datacenter: option({ kind: "text", schema: z.string(), default: "dc1", arg: "NAME", doc: "dc tag" }),
  region: option({ kind: "text", schema: z.string(), default: "global", arg: "NAME", doc: "region tag" }),
  log_level: option({
    kind: "text",
    schema: z.enum(["debug", "info", "warn", "error"]),
    default: "info",
    arg: "LEVEL",
    doc: "debug, info, warn, error",
  }),
  // Dkron keeps 100 executions per job, fixed.
  execution_retention: option({
    kind: "int",
    schema: z.number().int().min(1).max(100_000),
    default: 100,
    arg: "N",
    doc: "executions kept per job",
  }),
  max_body_size: option({
    kind: "int",
    schema: z
      .number()
      .int()
      .min(1024, "at least 1024 bytes")
      .max(64 * 1024 * 1024, "at most 64 MiB"),
    default: 1024 * 1024,
    arg: "BYTES",
    doc: "largest request body accepted; a bigger one gets 413",
  }),
  shutdown_grace: option({
    kind: "duration",
    schema: durationMs,
    default: 30_000,
    arg: "DUR",
    doc: "SIGTERM: time for running jobs to finish",
  }),
  lease_timeout: option({
    kind: "duration",
    schema: durationMs,
    default: 30_000,
    arg: "DUR",
    doc: "a running execution nobody reports becomes lost",
  }),
  heartbeat: option({
    kind: "duration",
    schema: durationMs,
    default: 5000,
    arg: "DUR",
    doc: "runner heartbeat",
  }),
  runner_settle: option({
    kind: "duration",
    schema: durationMs,
    default: 5000,
    arg: "DUR",
    doc: "new leader waits this long for a runner before scheduling",
  }),
  // Dkron servers run jobs too.
  local_runner: option({
    kind: "bool",
    schema: z.boolean(),
    default: true,
    arg: "BOOL",
    doc: "run jobs in this process too",
  }),
  runner_token: option({
    kind: "text",
    schema: z.string(),
    default: "",
    arg: "SECRET",
    shown: "random per start",
    secret: true,
    doc: "secret runners present",
  }),
  control_token: option({
    kind: "text",
    schema: z.string(),
    default: "",
    arg: "SECRET",
    shown: "none",
    secret: true,
    doc: "secret the edge presents to the control API",
  }),
  cluster_secret: option({
    kind: "text",
    schema: z.string(),
    default: "",
    arg: "SECRET",
    shown: "none, with a warning",
    secret: true,
    doc: "secret control nodes present to each other",
  }),
  insecure_no_auth: option({
    kind: "switch",
    schema: z.boolean(),
    default: false,
    doc: "serve the API without tokens (local development; refused beyond loopback)",
  }),
  audit_retention: option({
    kind: "duration",
    schema: durationMs,
    default: 90 * 24 * 3_600_000,
    arg: "DUR",
    shown: "2160h",
    doc: "audit records are kept this long",
  }),
  tls_cert_file: option({
    kind: "text",
    schema: z.string(),
    arg: "F",
    doc: "serve HTTPS/WSS with this PEM certificate (with --tls-key-file); trust a private CA with NODE_EXTRA_CA_CERTS=ca.pem",
  }),
  tls_key_file: option({
    kind: "text",
    schema: z.string(),
    arg: "F",
    doc: "PEM private key for --tls-cert-file",
  }),
  gossip_bind: option({
    kind: "text",
    schema: z.union([z.literal(""), hostPort]),
    default: "",
    arg: "H:P",
    shown: "the HTTP host, port 8946",
    doc: "UDP address of this node's gossip member (runners and control nodes share one pool)",
  }),
  gossip_join: option({
    kind: "list",
    schema: z.array(hostPort),
    default: [],
    arg: "H:P",
    doc: "a gossip member's UDP address, repeatable (other control nodes or runners)",
  }),
  encrypt: option({
    kind: "list",
    schema: z.array(
      z
        .string()
        .refine((k) => Buffer.from(k, "base64").length === 32, "expected 32 bytes in base64 (dkron keygen)"),
    ),
    default: [],
    arg: "KEY",
    shown: "none (plain text)",
    secret: true,
    doc: "AES-256-GCM gossip key from `dkron keygen`; repeat to install more, the first encrypts",
  }),
  raft_profile: option({
    kind: "text",
    schema: z.enum(["default", "fast"]),
    default: "default",
    arg: "P",
    doc: "default (elections in 1-2 s) or fast (0.3-0.6 s)",
  }),
  raft_snapshot_threshold: option({
    kind: "int",
    schema: z.number().int().min(16),
    default: 8192,
    arg: "N",
    doc: "entries between state snapshots; the log behind one is compacted",
  }),
};

/** The flag of a config key: `http_addr` → `http-addr` (Dkron's names). */
export function flagName(key: string): string {
  return key.replace(/_/g, "-");
}

/** The environment variable of a config key: `http_addr` → `DKRON_HTTP_ADDR`. */
export function envName(key: string): string {
  return `DKRON_${key.toUpperCase()}`;
}

/** A config key of the agent. */
export type AgentOptionKey = keyof typeof AGENT_OPTIONS;

/** Flags that are not config keys: where the config file is (also env DKRON_CONFIG) and --help. */
export const META_FLAGS = {
  config: {
    type: "string",
    arg: "FILE",
    doc: "JSON config file with the keys above (snake_case or kebab-case)",
  },
  help: { type: "boolean", short: "h", doc: "show this help" },
} as const;

/**
 * DKRON_* variables that name no option yet are not mistakes: every job's process gets them
 * (runner/executors/shell.ts), so an agent started from a job inherits them. Any other DKRON_*
 * name that is not an option stops the agent.
 */
export const NON_OPTION_ENV: ReadonlySet<string> = new Set([
  "DKRON_JOB_NAME",
  "DKRON_EXECUTION_ID",
  "DKRON_SCHEDULED_AT",
]);
