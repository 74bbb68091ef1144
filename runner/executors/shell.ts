import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import {
  type Clock,
  parseShellConfig,
  type ShellConfig,
  systemClock,
  type TimerHandle,
  WEBHOOK_PAYLOAD_ENV,
} from "../../shared";
import { type ExecuteRequest, type ExecuteResult, type Executor, notifyStarted } from "./executor";
import { OutputSink } from "./output-tail";
import { type PayloadFile, writePayloadFile } from "./payload-file";
import { type ProcessHandle, Spawner, type SpawnFn } from "./spawner";

/** The outside world the shell executor touches, injectable for tests. */
export interface ShellExecutorDeps {
  /**
   * Process spawner; by default a long-lived helper process forks the commands (spawner.ts), so a
   * burst of shell jobs does not hold this process's event loop. `directSpawn` forks here.
   */
  spawn?: SpawnFn;
  /** Environment the job's own variables are appended to; the runner's (read when the executor is created) by default. */
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** After cancel's SIGTERM, how long the group gets before SIGKILL (ms, default 2000). */
  killGraceMs?: number;
  /**
   * After the command exits, how long to wait for its output pipes to close (ms, default 1000). A process
   * it left running in the background may hold them open for ever; Dkron then hangs, we finish the job.
   */
  drainGraceMs?: number;
  /** Signals a whole process group; `process.kill(-pgid, signal)` by default. */
  killGroup?: (pgid: number, signal: NodeJS.Signals) => void;
  /** Where webhook payload files are written (in a private 0700 directory each); os.tmpdir() by default. */
  payloadDir?: string;
}

/** Dkron's `shell` executor: runs a command in its own process group. */
export function createShellExecutor(deps: ShellExecutorDeps = {}): Executor {
  const killGroup = deps.killGroup ?? ((pgid, signal) => process.kill(-pgid, signal));
  const spawner = deps.spawn ? undefined : new Spawner({ killGroup });
  // Read once: filtering process.env walks it through getenv, ~2 ms per run in a busy agent.
  const baseEnv = withoutSecrets(deps.env ?? process.env);
  const spawn = deps.spawn ?? spawner!.spawn;
  return {
    name: "shell",
    validate: (config) => {
      parseShellConfig(config);
    },
    execute: (req) => executeShell(req, { ...deps, killGroup, env: baseEnv }, spawn),
    close: async () => spawner?.stop(),
  };
}

async function executeShell(
  req: ExecuteRequest,
  deps: ShellExecutorDeps,
  spawn: SpawnFn,
): Promise<ExecuteResult> {
  const sink = new OutputSink(req.onOutput);
  let cfg: ShellConfig;
  try {
    cfg = parseShellConfig(req.config);
  } catch (e) {
    return { success: false, ...sink.result(), error: (e as Error).message };
  }
  if (req.signal.aborted)
    return { success: false, ...sink.result(), error: "job was cancelled before it started" };
  if (cfg.memLimit !== undefined)
    sink.write("shell: mem_limit is not enforced by this runner and was ignored\n");
  // A webhook's body goes to the command as a file (any size, any bytes, no quoting), named in the
  // environment, and is deleted once the command has exited.
  let payload: PayloadFile | undefined;
  if (req.payload !== undefined) {
    try {
      payload = await writePayloadFile(req.payload, deps.payloadDir ?? tmpdir());
    } catch (e) {
      return {
        success: false,
        ...sink.result(),
        error: `cannot write the webhook payload file: ${(e as Error).message}`,
      };
    }
  }
  try {
    return await new Promise((resolve) =>
      new ShellRun(req, cfg, deps, spawn, sink, resolve, payload?.path).start(),
    );
  } finally {
    await payload?.remove().catch(() => {});
  }
}

/** How a run ended when the runner, not the command, decided it. */
type Ending = "timeout" | "cancel";

/** One process-group run; lives from spawn until its result is resolved. */
class ShellRun {
  readonly #clock: Clock;
  readonly #killGroup: (pgid: number, signal: NodeJS.Signals) => void;
  #child: ProcessHandle | undefined;
  #ending: Ending | undefined;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #spawnError: Error | undefined;
  #owedSignal: NodeJS.Signals | undefined;
  #settled = false;
  readonly #timers: TimerHandle[] = [];

  constructor(
    private readonly req: ExecuteRequest,
    private readonly cfg: ShellConfig,
    private readonly deps: ShellExecutorDeps,
    private readonly spawn: SpawnFn,
    private readonly sink: OutputSink,
    private readonly resolve: (r: ExecuteResult) => void,
    private readonly payloadPath?: string,
  ) {
    this.#clock = deps.clock ?? systemClock;
    this.#killGroup = deps.killGroup ?? ((pgid, signal) => process.kill(-pgid, signal));
  }

  start(): void {
    const { identity } = this.req;
    const [file, ...args] = this.cfg.argv;
    const env: NodeJS.ProcessEnv = {
      ...(this.deps.env ?? withoutSecrets(process.env)),
      ...Object.fromEntries(this.cfg.env),
      ENV_JOB_NAME: identity.jobName,
      DKRON_JOB_NAME: identity.jobName,
      DKRON_EXECUTION_ID: identity.executionId,
      DKRON_SCHEDULED_AT: identity.scheduledAt,
      ...(this.payloadPath === undefined ? {} : { [WEBHOOK_PAYLOAD_ENV]: this.payloadPath }),
    };
    let child: ProcessHandle;
    try {
      // In a process group of its own (the child leads it), so a timeout or cancel reaches its whole tree.
      child = this.spawn(file!, args, {
        cwd: this.cfg.cwd,
        env,
        stdin: this.cfg.payload === undefined ? "ignore" : "pipe",
      });
    } catch (e) {
      this.#spawnError = e as Error;
      this.#finish();
      return;
    }
    this.#child = child;
    // The process exists from its `spawn` event on; a command that cannot start gets `error` instead.
    child.once("spawn", () => {
      // A timeout or cancel that came before the pid was known (a spawner reports it later).
      if (this.#owedSignal) this.#signalGroup(this.#owedSignal);
      notifyStarted(this.req);
    });
    const out = this.sink.source();
    const err = this.sink.source();
    child.stdout?.on("data", (b: Buffer) => out.write(b)).on("end", () => out.end());
    child.stderr?.on("data", (b: Buffer) => err.write(b)).on("end", () => err.end());
    child.on("error", (e) => {
      // Without a pid the process never started, and no exit or close may follow.
      if (child.pid === undefined) {
        this.#spawnError = e;
        this.#finish();
      }
    });
    child.on("exit", (code, signal) => {
      this.#exit = { code, signal };
      this.#later(this.deps.drainGraceMs ?? 1000, () => this.#stopWaitingForPipes());
    });
    child.on("close", (code, signal) => {
      this.#exit ??= { code, signal };
      this.#finish();
    });
    if (this.cfg.payload !== undefined && child.stdin) {
      // A command that never reads stdin closes the pipe early; that is its business, not an error.
      child.stdin.on("error", () => {});
      child.stdin.end(Buffer.from(this.cfg.payload, "base64"));
    }
    if (this.cfg.timeoutMs !== undefined) this.#later(this.cfg.timeoutMs, () => this.#onTimeout());
    this.req.signal.addEventListener("abort", this.#onAbort);
  }

  #later(ms: number, fn: () => void): void {
    if (this.#settled) return;
    this.#timers.push(this.#clock.setTimeout(fn, ms));
  }

  #signalGroup(signal: NodeJS.Signals): string | undefined {
    const pid = this.#child?.pid;
    if (pid === undefined) {
      // Not started yet: sent once it is (the strongest signal asked for wins).
      if (this.#child && this.#owedSignal !== "SIGKILL") this.#owedSignal = signal;
      return undefined;
    }
    try {
      this.#killGroup(pid, signal);
      return undefined;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ESRCH") return undefined; // already gone
      return (e as Error).message;
    }
  }

  #onTimeout(): void {
    if (this.#settled || this.#ending !== undefined) return;
    this.#ending = "timeout";
    const failed = this.#signalGroup("SIGKILL");
    this.sink.write(
      failed === undefined
        ? `\nshell: job exceeded its timeout of ${this.cfg.timeoutText} and was killed\n`
        : `\nshell: job exceeded its timeout of ${this.cfg.timeoutText}; SIGKILL failed (${failed}), it may still be running\n`,
    );
  }

  readonly #onAbort = (): void => {
    if (this.#settled || this.#ending !== undefined) return;
    this.#ending = "cancel";
    this.sink.write("\nshell: job was cancelled; stopping its process group\n");
    this.#signalGroup("SIGTERM");
    this.#later(this.deps.killGraceMs ?? 2000, () => this.#signalGroup("SIGKILL"));
  };

  #stopWaitingForPipes(): void {
    if (this.#settled) return;
    this.sink.write(
      "\nshell: the command exited but a background process still holds its output; not waiting\n",
    );
    this.#child?.stdout?.destroy();
    this.#child?.stderr?.destroy();
    this.#finish();
  }

  #finish(): void {
    if (this.#settled) return;
    this.#settled = true;
    for (const t of this.#timers) this.#clock.clearTimeout(t);
    this.req.signal.removeEventListener("abort", this.#onAbort);
    // After a timeout or cancel, sweep the group: a member that survived SIGTERM or ignored the grace
    // period must not outlive the execution that owned it.
    if (this.#ending !== undefined) this.#signalGroup("SIGKILL");
    this.resolve({ ...this.#verdict(), ...this.sink.result() });
  }

  #verdict(): { success: boolean; error?: string; exitCode?: number } {
    if (this.#ending === "timeout") {
      return { success: false, error: `job exceeded its timeout of ${this.cfg.timeoutText} and was killed` };
    }
    if (this.#ending === "cancel") return { success: false, error: "job was cancelled" };
    if (this.#spawnError !== undefined && this.#exit === undefined) {
      return { success: false, error: describeSpawnError(this.#spawnError, this.cfg) };
    }
    const code = this.#exit?.code;
    if (code === 0) return { success: true, exitCode: 0 };
    if (typeof code === "number") return { success: false, error: `exit status ${code}`, exitCode: code };
    // Go's wording for a process killed by a signal nobody here sent.
    return { success: false, error: `signal: ${this.#exit?.signal ?? "unknown"}` };
  }
}

function describeSpawnError(e: Error, cfg: ShellConfig): string {
  const code = (e as NodeJS.ErrnoException).code;
  const file = cfg.argv[0];
  // spawn reports a missing cwd as ENOENT too, naming the command; tell the two apart for the operator.
  if (code === "ENOENT" && cfg.cwd !== undefined && !existsSync(cfg.cwd)) {
    return `cannot start command: working directory "${cfg.cwd}" does not exist`;
  }
  if (code === "ENOENT") return `cannot start command: "${file}" not found`;
  if (code === "EACCES") return `cannot start command: permission denied for "${file}"`;
  return `cannot start command "${file}": ${e.message}`;
}

/**
 * The agent's own credentials (cluster secret, control and runner tokens, an API token) are not a
 * job's to see: a job's output is readable by any token that may read the job.
 */
const SECRET_ENV = /^(DKRON_(CLUSTER_SECRET|CONTROL_TOKEN|RUNNER_TOKEN|TOKEN|ENCRYPT)|CONTROL_TOKEN)$/;

/** `env` without the agent's secrets. */
export function withoutSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !SECRET_ENV.test(k)));
}
