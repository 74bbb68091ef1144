import { chmodSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { type Clock, type Logger, systemClock, type TimerHandle } from "../shared";
import { type AgentStatus, RunnerAgent, type WebSocketFactory } from "./agent";
import { CONTROLS_FILE, controlOrder, controlsFileText, readControls, runnerWsUrl } from "./control-urls";
import { createExecutors } from "./executors";
import type { RunnerGossip, RunnerGossipStatus } from "./runner-gossip";

/** The file in the data dir holding the runner's credential and settings (mode 0600). */
export const CREDENTIAL_FILE = "credential.json";
/** The file the running service rewrites every STATUS_EVERY_MS (mode 0600), read by `dkron-runner status`. */
export const STATUS_FILE = "status.json";
/** How often the status file is rewritten. */
export const STATUS_EVERY_MS = 2000;

/** What `dkron-runner join` saves and `dkron-runner start` reads. */
export const SavedCredentialSchema = z.object({
  version: z.literal(1),
  /** http(s):// URL of any control node. */
  control_url: z.string().url(),
  name: z.string().min(1),
  /** `drc.<id>.<secret>`: this runner's own credential. */
  credential: z.string().min(1),
  tags: z.record(z.string(), z.string()),
  ca_file: z.string().optional(),
  max_concurrent: z.number().int().positive().optional(),
  executors: z.array(z.string()).optional(),
  shutdown_grace_ms: z.number().int().min(0).default(30_000),
});
/** A saved credential. */
export type SavedCredential = z.output<typeof SavedCredentialSchema>;

/** What a running service writes to STATUS_FILE. */
export interface ServiceStatus extends AgentStatus {
  name: string;
  pid: number;
  control_url: string;
  /** The control nodes it reconnects through, in order (the saved control URL first). */
  controls: string[];
  written_at: string;
  /** The gossip member's state (absent when the service runs without one). */
  gossip?: RunnerGossipStatus;
}

/**
 * A runner service's configuration: what to connect to and run. An object so later parts (gossip)
 * add fields without changing the callers.
 */
export interface RunnerServiceConfig {
  dataDir: string;
  credential: SavedCredential;
  logger: Logger;
  clock?: Clock;
  /** Opens the stream's WebSocket (the entry passes ws's; `ca` is added for --ca-file). */
  webSocket: WebSocketFactory;
  /** Random source for the reconnect jitter. */
  random: () => number;
  /** Called when the credential is refused for good (revoked): the CLI exits 78 (EXIT_REJECTED). */
  onRejected?: (reason: string) => void;
  /** Re-keys the runner's gossip member with the leader's keyring frames (gossip's followKeyring). */
  onKeyring?: (keys: string[]) => void;
  /** The runner's gossip member: started before the stream, left after the drain. */
  gossip?: Pick<RunnerGossip, "start" | "learn" | "leave" | "status">;
}

export { CONTROLS_FILE, RUNNER_WS_PATH, runnerWsUrl } from "./control-urls";

/** Writes a file readable by its owner only, atomically (a reader never sees half of it). */
export function writePrivateFile(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Reads the saved credential of a data dir; throws a one-line Error naming what is wrong. */
export function readCredential(dataDir: string): SavedCredential {
  const path = join(dataDir, CREDENTIAL_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      code === "ENOENT"
        ? `no ${CREDENTIAL_FILE} in ${dataDir}: run 'dkron-runner join <control-url> --token <token> --data-dir ${dataDir}' first`
        : `cannot read ${path}: ${(e as Error).message}`,
    );
  }
  const r = SavedCredentialSchema.safeParse(raw);
  if (!r.success) throw new Error(`${path} is not a runner credential: ${r.error.issues[0]?.message}`);
  return r.data;
}

/**
 * The running runner: a RunnerAgent with the configured executors, connected with the saved
 * credential, writing its status to the data dir every few seconds until stopped.
 */
export class RunnerService {
  private readonly agent: RunnerAgent;
  private timer: TimerHandle | undefined;
  private readonly clock: Clock;
  /** The control nodes' http(s) URLs, saved control URL first (CONTROLS_FILE and the welcomes). */
  private controls: string[];

  private constructor(private readonly cfg: RunnerServiceConfig) {
    this.clock = cfg.clock ?? systemClock;
    const c = cfg.credential;
    const ca = c.ca_file ? readFileSync(c.ca_file) : undefined;
    const all = createExecutors({ clock: this.clock });
    const executors = c.executors ? new Map([...all].filter(([n]) => c.executors!.includes(n))) : all;
    this.controls = controlOrder(c.control_url, readControls(cfg.dataDir));
    this.agent = new RunnerAgent({
      url: runnerWsUrl(c.control_url),
      fallbackUrls: this.controls.slice(1).map(runnerWsUrl),
      token: c.credential,
      name: c.name,
      tags: c.tags,
      executors,
      clock: this.clock,
      logger: cfg.logger,
      webSocket: (url, o) => cfg.webSocket(url, { ...o, ...(ca ? { ca } : {}) }),
      random: cfg.random,
      ...(c.max_concurrent === undefined ? {} : { maxConcurrent: c.max_concurrent }),
      ...(cfg.onRejected ? { onRejected: cfg.onRejected } : {}),
      ...(cfg.onKeyring ? { onKeyring: cfg.onKeyring } : {}),
      onWelcome: (w) => {
        cfg.gossip?.learn(w.gossip);
        if (w.controls?.length) this.learnControls(w.controls);
      },
    });
  }

  /**
   * The leader named the control nodes: follow them from now on, and save them (when they changed)
   * so a later `dkron-runner start` reconnects through them too while the saved node is down.
   */
  private learnControls(urls: readonly string[]): void {
    const next = controlOrder(this.cfg.credential.control_url, urls);
    if (next.join() === this.controls.join()) return;
    this.controls = next;
    this.agent.setFallbackUrls(next.slice(1).map(runnerWsUrl));
    try {
      writePrivateFile(join(this.cfg.dataDir, CONTROLS_FILE), controlsFileText(next));
    } catch (e) {
      this.cfg.logger.warn("cannot save the control nodes' addresses", { err: String(e) });
    }
  }

  /** Builds a service from its config (nothing starts yet). */
  static create(cfg: RunnerServiceConfig): RunnerService {
    return new RunnerService(cfg);
  }

  /** Connects; resolves after the first welcome from the leader. */
  async start(): Promise<void> {
    // Gossip first: the pool sees the runner alive (stream down) even while no leader answers.
    await this.cfg.gossip?.start();
    this.writeStatus();
    this.scheduleStatus();
    await this.agent.start();
    this.writeStatus();
  }

  /**
   * Drains: no new runs, running ones get `graceMs` to finish, results are delivered, then it
   * closes the stream and leaves the gossip pool gracefully (listed `left`, not failed).
   */
  async stop(graceMs = this.cfg.credential.shutdown_grace_ms): Promise<void> {
    await this.agent.stop(graceMs);
    await this.cfg.gossip?.leave();
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.writeStatus();
  }

  /** The agent's status with this runner's name and pid. */
  status(): ServiceStatus {
    return {
      ...this.agent.status(),
      name: this.cfg.credential.name,
      pid: process.pid,
      control_url: this.cfg.credential.control_url,
      controls: this.controls,
      written_at: new Date(this.clock.now()).toISOString(),
      ...(this.cfg.gossip ? { gossip: this.cfg.gossip.status() } : {}),
    };
  }

  private scheduleStatus(): void {
    this.timer = this.clock.setTimeout(() => {
      this.writeStatus();
      this.scheduleStatus();
    }, STATUS_EVERY_MS);
  }

  private writeStatus(): void {
    try {
      writePrivateFile(join(this.cfg.dataDir, STATUS_FILE), `${JSON.stringify(this.status(), null, 2)}\n`);
    } catch (e) {
      this.cfg.logger.warn("cannot write the status file", { err: String(e) });
    }
  }
}
