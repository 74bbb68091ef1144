import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Agent, fetch as undiciFetch } from "undici";
import WebSocket from "ws";
import { createLogger, RESERVED_RUNNER_TAGS, type RunnerJoinedJson, systemClock } from "../shared";

type LogLevel = "debug" | "info" | "warn" | "error";

import { HELP } from "./cli-help";

import { followKeyring, KEYRING_FILE, keyFingerprint, writeKeyringFile } from "./gossip";
import {
  checkGossipFlags,
  DEFAULT_GOSSIP_BIND,
  GOSSIP_FILE,
  GossipFlagError,
  type GossipFlags,
  planGossip,
  readGossipSettings,
  runnerStartKeys,
  settingsFromJoin,
} from "./gossip-settings";
import { RunnerGossip } from "./runner-gossip";
import {
  CONTROLS_FILE,
  CREDENTIAL_FILE,
  RunnerService,
  readCredential,
  type SavedCredential,
  type ServiceStatus,
  STATUS_EVERY_MS,
  STATUS_FILE,
  writePrivateFile,
} from "./service";

/**
 * Exit status when the control node rejects this runner's credential (revoked, or unknown):
 * EX_CONFIG, so a service manager can tell it from a crash and not restart it forever
 * (systemd: `RestartPreventExitStatus=78`). A fresh join is the only way back.
 */
export const EXIT_REJECTED = 78;

/** This package's version, gossiped in the member's meta (keep in step with runner/package.json). */
const RUNNER_VERSION = "0.1.0";

const GOSSIP_OPTIONS_HELP = `  --gossip-bind H:P       UDP address of this runner's gossip member (default ${DEFAULT_GOSSIP_BIND},
                          or a free port when that one is taken; the log says which)
  --gossip-advertise H:P  address the pool reaches it at (default: the bound one, or for 0.0.0.0
                          the address this host reaches the control URL from)
  --gossip-join H:P       a gossip member to join through (repeatable; default: the control
                          nodes' gossip addresses the cluster handed out at join and since)
  --encrypt KEY           gossip encryption key, base64 from 'dkron keygen' (repeatable, primary
                          first; the control nodes' keys). Once <data-dir>/keyring.json exists it
                          wins: the cluster's key rotations rewrite it ('dkron keys')`;

const JOIN_HELP = `Usage: dkron-runner join <control-url> (--token <drj.id.secret> | --token-file F) [options]

Exchanges the join token (from 'dkron runner-token create') for this runner's own credential,
saves it to <data-dir>/${CREDENTIAL_FILE} (mode 0600) and runs as a service. Later starts need no
token: dkron-runner start --data-dir D.

Options:
  --token T               the join token (visible in 'ps' while join runs: prefer --token-file)
  --token-file F          read the join token from file F instead
  --name N                this runner's name (default: the host name)
  --tags k=v[,k=v]        tags jobs target this runner by (repeatable); the join token's
                          tags win over these; control-node tags (${RESERVED_RUNNER_TAGS.join(", ")})
                          are reserved
  --data-dir D            where the credential and status live (default dkron-runner.data)
  --ca-file F             PEM CA bundle to trust for an https:// control URL
  --max-concurrent N      most executions run at once (told to the leader)
  --executors LIST        executors offered, comma-separated (default shell,http)
  --shutdown-grace MS     on SIGTERM, how long running executions may finish (default 30000)
${GOSSIP_OPTIONS_HELP}
  --log-level L           debug, info, warn, error (default info)
  -h, --help              show this help

The gossip settings are saved to <data-dir>/${GOSSIP_FILE} and the keys to <data-dir>/${KEYRING_FILE}
(mode 0600); 'start' reuses them. The leader sends the cluster's keyring after every connect and
rotation ('dkron keys install/use/remove'); the runner re-keys at once and rewrites ${KEYRING_FILE}.
The leader's welcome also names every control node: they are saved to <data-dir>/${CONTROLS_FILE}
(mode 0600), and when the stream drops and the control URL's node is down the runner reconnects
through the others (any of them sends it on to the leader).

Exit status: 0 after a drain (SIGTERM), 1 on a mistake or a refused join, ${EXIT_REJECTED} when the control
node rejects the runner's credential (revoked or unknown: join again with a new token).
`;

const START_HELP = `Usage: dkron-runner start [--data-dir D] [--shutdown-grace MS] [gossip options] [--log-level L]

Runs the runner from <data-dir>/${CREDENTIAL_FILE}, written by 'dkron-runner join', with the gossip
settings join saved. It connects through the saved control URL, or while that node is down through
the other control nodes saved in <data-dir>/${CONTROLS_FILE}. SIGTERM drains: the runner tells the
leader, which sends it no new run; running ones finish within --shutdown-grace, results are
delivered, then the runner leaves the gossip pool and exits 0.
While running it rewrites <data-dir>/${STATUS_FILE} (mode 0600) every ${STATUS_EVERY_MS / 1000} s.
Exit status: 0 after a drain, 1 on a mistake, ${EXIT_REJECTED} when the control node rejects the saved
credential (revoked or unknown): restarting cannot help, join again with a new token.

Options:
  --data-dir D            (default dkron-runner.data)
  --shutdown-grace MS     overrides the saved value
${GOSSIP_OPTIONS_HELP}
                          (each overrides the saved setting for this run, but a saved
                          keyring.json wins over --encrypt)
  --log-level L           debug, info, warn, error (default info)
  -h, --help              show this help
`;

const STATUS_HELP = `Usage: dkron-runner status [--data-dir D] [--json]

Prints what the running service last wrote to <data-dir>/${STATUS_FILE}: connected or not, the
leader, running executions, unacknowledged results, live output bytes dropped under
backpressure, and its gossip member (address, state, members known by state, control nodes). Exits 1 when no service has written it in the last ${(3 * STATUS_EVERY_MS) / 1000} s.

Options:
  --data-dir D            (default dkron-runner.data)
  --json                  print the JSON
  -h, --help              show this help
`;

/** A user mistake: one line on stderr, exit 1. */
class UserError extends Error {}

/** The dkron-runner CLI. */
export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case "join":
        return await joinCommand(rest);
      case "start":
        return await startCommand(rest);
      case "status":
        return statusCommand(rest);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(HELP);
        return;
      default:
        throw new UserError(`unknown command "${cmd}" (run dkron-runner --help)`);
    }
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`dkron-runner: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}

type Parsed = { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };

function parse(
  argv: string[],
  cmd: string,
  options: NonNullable<Parameters<typeof parseArgs>[0]>["options"],
): Parsed {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as Parsed;
  } catch (e) {
    throw new UserError(`${(e as Error).message} (see dkron-runner ${cmd} --help)`);
  }
}

/** The gossip flags `join` and `start` share. */
const GOSSIP_PARSE = {
  "gossip-bind": { type: "string" },
  "gossip-advertise": { type: "string" },
  "gossip-join": { type: "string", multiple: true },
  encrypt: { type: "string", multiple: true },
} as const;

function gossipFlags(v: Parsed["values"]): GossipFlags {
  const f: GossipFlags = {
    bind: v["gossip-bind"] as string | undefined,
    advertise: v["gossip-advertise"] as string | undefined,
    join: v["gossip-join"] as string[] | undefined,
    encrypt: v.encrypt as string[] | undefined,
  };
  try {
    checkGossipFlags(f);
  } catch (e) {
    if (e instanceof GossipFlagError) throw new UserError(e.message);
    throw e;
  }
  return f;
}

function tagPairs(values: readonly string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const part of values.flatMap((v) => v.split(","))) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf("=");
    if (eq <= 0) throw new UserError(`--tags: "${p}" is not k=v`);
    const key = p.slice(0, eq);
    if (RESERVED_RUNNER_TAGS.includes(key))
      throw new UserError(
        `--tags: "${key}" is reserved for control nodes (${RESERVED_RUNNER_TAGS.join(", ")})`,
      );
    tags[key] = p.slice(eq + 1);
  }
  return tags;
}

function positiveInt(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`${flag} must be a whole number, got "${v}"`);
  return n;
}

async function joinCommand(argv: string[]): Promise<void> {
  const { values: v, positionals } = parse(argv, "join", {
    token: { type: "string" },
    "token-file": { type: "string" },
    name: { type: "string" },
    tags: { type: "string", multiple: true },
    "data-dir": { type: "string" },
    "ca-file": { type: "string" },
    "max-concurrent": { type: "string" },
    executors: { type: "string" },
    "shutdown-grace": { type: "string" },
    "log-level": { type: "string" },
    ...GOSSIP_PARSE,
    help: { type: "boolean", short: "h" },
  });
  if (v.help) return void process.stdout.write(JOIN_HELP);
  // Every flag is checked before the token is spent.
  const gossip = gossipFlags(v);
  const url = positionals[0];
  if (!url)
    throw new UserError(
      "join needs the control URL, e.g. dkron-runner join http://10.0.0.1:8080 --token ...",
    );
  let control: URL;
  try {
    control = new URL(url);
    if (control.protocol !== "http:" && control.protocol !== "https:") throw new Error();
  } catch {
    throw new UserError(`"${url}" is not an http:// or https:// URL of a control node`);
  }
  const token = joinTokenOf(v.token as string | undefined, v["token-file"] as string | undefined);
  const dataDir = String(v["data-dir"] ?? "dkron-runner.data");
  const caFile = v["ca-file"] as string | undefined;
  const maxConcurrent = positiveInt(v["max-concurrent"], "--max-concurrent");
  if (maxConcurrent === 0) throw new UserError("--max-concurrent must be at least 1");
  const executors = v.executors
    ? String(v.executors)
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;
  for (const e of executors ?? [])
    if (e !== "shell" && e !== "http")
      throw new UserError(`--executors: unknown executor "${e}" (shell, http)`);
  const name = String(v.name ?? (await import("node:os")).hostname());
  const asked = tagPairs((v.tags as string[] | undefined) ?? []);
  const shutdownGrace = positiveInt(v["shutdown-grace"], "--shutdown-grace") ?? 30_000;
  const level = logLevel(v["log-level"] as string | undefined);
  const ca = caFile ? readCaFile(caFile) : undefined;

  const joined = await postJoin(control, ca, { token, name, tags: asked });
  const saved: SavedCredential = {
    version: 1,
    control_url: control.origin,
    name: joined.name,
    credential: joined.credential,
    tags: joined.tags,
    ...(caFile ? { ca_file: caFile } : {}),
    ...(maxConcurrent ? { max_concurrent: maxConcurrent } : {}),
    ...(executors ? { executors } : {}),
    shutdown_grace_ms: shutdownGrace,
  };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writePrivateFile(join(dataDir, CREDENTIAL_FILE), `${JSON.stringify(saved, null, 2)}\n`);
  writePrivateFile(
    join(dataDir, GOSSIP_FILE),
    `${JSON.stringify(settingsFromJoin(gossip, joined.gossip), null, 2)}\n`,
  );
  // A new join is a new identity (maybe another cluster): the old one's control nodes do not apply.
  rmSync(join(dataDir, CONTROLS_FILE), { force: true });
  // A new join is a new identity: keys of an earlier one in this data dir do not carry over.
  if (gossip.encrypt?.length) writeKeyringFile(dataDir, gossip.encrypt);
  else rmSync(join(dataDir, KEYRING_FILE), { force: true });
  process.stderr.write(
    `dkron-runner: joined as "${joined.name}"; credential saved to ${join(dataDir, CREDENTIAL_FILE)}\n`,
  );
  await runService(dataDir, saved, level, {});
}

/** The join token from --token or --token-file (one of them), or a one-line error. */
function joinTokenOf(token: string | undefined, file: string | undefined): string {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new UserError(
        `--token-file: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    if (token !== undefined) throw new UserError("--token-file: give it or --token, not both");
    const t = text.trim();
    if (!t) throw new UserError(`--token-file: ${file} is empty`);
    return t;
  }
  if (!token)
    throw new UserError("join needs --token <join token> or --token-file F (dkron runner-token create)");
  return token;
}

/** The --log-level value, or a one-line error naming it. */
function logLevel(level: string | undefined): LogLevel {
  const lvl = (level ?? "info") as LogLevel;
  if (!["debug", "info", "warn", "error"].includes(lvl))
    throw new UserError(`--log-level: "${level}" is not debug, info, warn or error`);
  return lvl;
}

/** The CA bundle of --ca-file, or a one-line error saying why it cannot be read. */
function readCaFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new UserError(
      `--ca-file: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

async function postJoin(
  control: URL,
  ca: Buffer | undefined,
  body: { token: string; name: string; tags: Record<string, string> },
): Promise<RunnerJoinedJson> {
  const dispatcher = ca ? new Agent({ connect: { ca } }) : undefined;
  let res: Awaited<ReturnType<typeof undiciFetch>>;
  try {
    res = await undiciFetch(new URL("/v1/runners/join", control), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
      ...(dispatcher ? { dispatcher } : {}),
    });
  } catch (e) {
    throw new UserError(
      `cannot reach a control node at ${control.origin}: ${(e as Error).cause ?? (e as Error).message}`,
    );
  }
  const answer = (await res.json().catch(() => null)) as
    | (RunnerJoinedJson & { error?: { message?: string } })
    | null;
  if (!res.ok || !answer?.credential)
    throw new UserError(`join refused: ${answer?.error?.message ?? `HTTP ${res.status}`}`);
  return answer;
}

async function startCommand(argv: string[]): Promise<void> {
  const { values: v } = parse(argv, "start", {
    "data-dir": { type: "string" },
    "shutdown-grace": { type: "string" },
    "log-level": { type: "string" },
    ...GOSSIP_PARSE,
    help: { type: "boolean", short: "h" },
  });
  if (v.help) return void process.stdout.write(START_HELP);
  const gossip = gossipFlags(v);
  const dataDir = String(v["data-dir"] ?? "dkron-runner.data");
  let saved: SavedCredential;
  try {
    saved = readCredential(dataDir);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  const grace = positiveInt(v["shutdown-grace"], "--shutdown-grace");
  await runService(
    dataDir,
    grace === undefined ? saved : { ...saved, shutdown_grace_ms: grace },
    v["log-level"] as string | undefined,
    gossip,
  );
}

/** The runner's gossip member, planned from the data dir's settings and keyring and this command's flags. */
function runnerGossip(
  dataDir: string,
  saved: SavedCredential,
  flags: GossipFlags,
  logger: ReturnType<typeof createLogger>,
): RunnerGossip {
  let gs: ReturnType<typeof readGossipSettings>;
  let keys: string[];
  try {
    gs = readGossipSettings(dataDir);
    keys = runnerStartKeys(dataDir, flags);
  } catch (e) {
    if (e instanceof GossipFlagError) throw new UserError(e.message);
    throw e;
  }
  if (flags.encrypt?.length && flags.encrypt.join() !== keys.join())
    logger.warn(`--encrypt differs from ${KEYRING_FILE}, which wins (the cluster's rotations keep it)`, {
      flags: flags.encrypt.map(keyFingerprint),
      keyring: keys.map(keyFingerprint),
    });
  return new RunnerGossip({
    name: saved.name,
    version: RUNNER_VERSION,
    tags: saved.tags,
    plan: planGossip(gs, keys, flags),
    seeds: gs.seeds,
    controlHost: new URL(saved.control_url).hostname.replace(/^\[|\]$/g, ""),
    clock: systemClock,
    logger,
    saveSeeds: (seeds) =>
      writePrivateFile(join(dataDir, GOSSIP_FILE), `${JSON.stringify({ ...gs, seeds }, null, 2)}\n`),
  });
}

async function runService(
  dataDir: string,
  saved: SavedCredential,
  level: string | undefined,
  gossipOverrides: GossipFlags,
): Promise<void> {
  const lvl = logLevel(level);
  const logger = createLogger({
    level: lvl,
    write: (l) => process.stdout.write(`${l}\n`),
    fields: { runner: saved.name },
  });
  let rejected = false;
  const gossip = runnerGossip(dataDir, saved, gossipOverrides, logger);
  const service = RunnerService.create({
    dataDir,
    credential: saved,
    logger,
    webSocket: (url, o) => new WebSocket(url, o),
    random: Math.random,
    gossip,
    // The leader's keyring (after each welcome and rotation): re-key the live member, save keyring.json.
    onKeyring: followKeyring(gossip.member, { dataDir, logger }),
    onRejected: (reason) => {
      if (rejected) return;
      rejected = true;
      process.stderr.write(`dkron-runner: ${reason}; join again with a new join token\n`);
      // Its runs cannot report any more: cancel them, leave the pool (listed left, not failed), exit.
      setTimeout(() => process.exit(EXIT_REJECTED), 8000).unref();
      void service.stop(0).finally(() => process.exit(EXIT_REJECTED));
    },
  });
  let stopping = false;
  const shutdown = (sig: string) => {
    if (stopping) {
      process.stderr.write(`dkron-runner: ${sig} again: exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(
      `dkron-runner: ${sig}: draining (up to ${saved.shutdown_grace_ms} ms), then exiting\n`,
    );
    void service.stop().then(() => process.exit(0));
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  try {
    await service.start();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EADDRNOTAVAIL" || code === "EACCES")
      throw new UserError(
        `cannot bind the gossip socket (${code}): pick another --gossip-bind (the credential stays saved; run 'dkron-runner start --data-dir ${dataDir} --gossip-bind H:P')`,
      );
    throw e;
  }
  process.stderr.write(`dkron-runner: "${saved.name}" connected to ${service.status().leader}\n`);
}

function statusCommand(argv: string[]): void {
  const { values: v } = parse(argv, "status", {
    "data-dir": { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (v.help) return void process.stdout.write(STATUS_HELP);
  const dataDir = String(v["data-dir"] ?? "dkron-runner.data");
  let st: ServiceStatus;
  try {
    st = JSON.parse(readFileSync(join(dataDir, STATUS_FILE), "utf8")) as ServiceStatus;
  } catch {
    throw new UserError(`no ${STATUS_FILE} in ${dataDir}: is a runner running with --data-dir ${dataDir}?`);
  }
  const age = Date.now() - Date.parse(st.written_at);
  const live = age <= 3 * STATUS_EVERY_MS && st.state !== "stopped";
  if (v.json) process.stdout.write(`${JSON.stringify({ ...st, live }, null, 2)}\n`);
  else
    process.stdout.write(
      [
        `runner:          ${st.name} (pid ${st.pid}, ${live ? st.state : `not running, last seen ${st.written_at}`})`,
        `control:         ${st.control_url}`,
        `control nodes:   ${(st.controls ?? [st.control_url]).join(", ")}`,
        `connection:      ${st.connected ? "connected" : "disconnected"}`,
        `leader:          ${st.leader ?? "-"}`,
        `running:         ${st.running.length}${st.running.length ? ` (${st.running.join(", ")})` : ""}`,
        `pending results: ${st.pendingResults}`,
        `dropped output:  ${st.droppedOutputBytes} bytes (live view skipped: ${st.droppedLiveBytes})`,
        `gossip:          ${gossipLine(st)}`,
      ].join("\n") + "\n",
    );
  if (!live) process.exit(1);
}

function gossipLine(st: ServiceStatus): string {
  const g = st.gossip;
  if (!g) return "-";
  const m = g.members;
  return `${g.addr || "unbound"} ${g.state}${g.encrypted ? ", encrypted" : ""}; members ${m.alive} alive, ${m.suspect} suspect, ${m.dead} dead, ${m.left} left; ${g.control_nodes} control node${g.control_nodes === 1 ? "" : "s"}`;
}
