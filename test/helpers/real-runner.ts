/**
 * The real `dkron-runner` CLI (runner/bin/dkron-runner.mjs, the compiled bundle) as a child process
 * of a multi-process test, in its own process group so the test can SIGKILL it with its children.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../runner/bin/dkron-runner.mjs", import.meta.url));

/** A running (or exited) dkron-runner process. */
export interface RealRunner {
  proc: ChildProcess;
  /** What it wrote to stderr so far (its human lines: joined, connected, refused, revoked). */
  stderr(): string;
  /** Resolves with its exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Starts `dkron-runner <args…>`. */
export function spawnRunner(args: string[]): RealRunner {
  const proc = spawn(process.execPath, [BIN, ...args], {
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  let err = "";
  proc.stderr!.on("data", (d) => {
    err = (err + String(d)).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return { proc, stderr: () => err, exited };
}

/** Waits until the runner's stderr matches `re`; rejects with its stderr when it exits first or time runs out. */
export async function waitForLine(r: RealRunner, re: RegExp, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let code: number | null | undefined;
  void r.exited.then((c) => {
    code = c ?? -1;
  });
  while (!re.test(r.stderr())) {
    if (code !== undefined) throw new Error(`dkron-runner exited (${code}) before ${re}:\n${r.stderr()}`);
    if (Date.now() > deadline)
      throw new Error(`no ${re} from dkron-runner in ${timeoutMs} ms:\n${r.stderr()}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/**
 * SIGKILLs the runner's process group; a gone one is fine. A job it was running is not in that group
 * (the shell executor starts each job as its own group, so cancelling a job reaches its children):
 * a test that SIGKILLs a runner mid-job ends that job itself.
 */
export function killRunner(r: RealRunner): void {
  try {
    process.kill(-(r.proc.pid as number), "SIGKILL");
  } catch {
    // Already gone.
  }
}

/**
 * The arguments of `dkron-runner join <url> --token <token>` as `name` on `dataDir`, gossip on a free
 * loopback port, then each of `tags` as `--tags` and `extra`.
 */
export function joinArgs(
  url: string,
  token: string,
  name: string,
  dataDir: string,
  opts: { tags?: string[]; extra?: string[] } = {},
): string[] {
  return [
    "join",
    url,
    "--token",
    token,
    "--name",
    name,
    "--data-dir",
    dataDir,
    "--gossip-bind",
    "127.0.0.1:0",
    ...(opts.tags ?? []).flatMap((t) => ["--tags", t]),
    ...(opts.extra ?? []),
  ];
}

/** Options of RunnerProcs.join. */
export interface JoinOptions {
  tags?: string[];
  extra?: string[];
  /** The node that mints the join token (default: the one joined through). */
  tokenUrl?: string;
  /** How long to wait for "connected to" (waitForLine's default when absent). */
  timeoutMs?: number;
}

/** The dkron-runner processes one test file started, so its afterAll can SIGKILL every one. */
export class RunnerProcs {
  private readonly started: RealRunner[] = [];

  /** spawnRunner, remembered for killAll. */
  spawn(args: string[]): RealRunner {
    const r = spawnRunner(args);
    this.started.push(r);
    return r;
  }

  /** `dkron-runner join` of `name` through `url` with a fresh join token; resolves once it is connected. */
  async join(url: string, name: string, dataDir: string, opts: JoinOptions = {}): Promise<RealRunner> {
    const token = await createJoinToken(opts.tokenUrl ?? url);
    const r = this.spawn(joinArgs(url, token, name, dataDir, opts));
    await waitForLine(r, /connected to/, opts.timeoutMs);
    return r;
  }

  /** SIGKILLs every runner started (see killRunner). */
  killAll(): void {
    for (const r of this.started) killRunner(r);
  }
}

/** Mints a join token through a control node's API (the test cluster runs --insecure-no-auth). */
export async function createJoinToken(
  url: string,
  body: { ttl?: string; single_use?: boolean; tags?: Record<string, string> } = {},
): Promise<string> {
  const r = await fetch(`${url}/v1/runner-tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const j = (await r.json()) as { token?: string };
  if (r.status !== 201 || !j.token)
    throw new Error(`runner-token create: HTTP ${r.status} ${JSON.stringify(j)}`);
  return j.token;
}
