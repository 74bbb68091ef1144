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
