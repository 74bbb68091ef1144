import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../control/bin/dkron.mjs", import.meta.url));

/** A `dkron agent` running as a real child process. */
export interface AgentProcess {
  proc: ChildProcess;
  /** Base URL of its API, e.g. http://127.0.0.1:41234 */
  url: string;
  output: () => string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  /** SIGKILLs its process group (the node and whatever its local runner started) and waits for the exit. */
  kill(): Promise<void>;
}

/** Starts `dkron agent --server` on a free loopback port and waits until it prints its address. */
export async function startAgent(
  args: string[],
  env: Record<string, string> = {},
  /** Flags for node itself (e.g. --cpu-prof, which NODE_OPTIONS refuses). */
  nodeArgs: string[] = [],
): Promise<AgentProcess> {
  const proc = spawn(
    process.execPath,
    [...nodeArgs, BIN, "agent", "--server", "--http-addr", "127.0.0.1:0", ...args],
    {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so kill() reaches every process of the agent (its jobs are groups of
      // their own: a SIGTERM stops them through the agent's drain, a SIGKILL leaves them to the test).
      detached: true,
    },
  );
  let out = "";
  proc.stdout!.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<number | string>((r) => proc.once("exit", (code, sig) => r(code ?? sig ?? -1)));
  const killGroup = () => {
    try {
      process.kill(-proc.pid!, "SIGKILL");
    } catch {
      // The group is already gone.
    }
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left behind: nobody gets a handle to kill it.
      killGroup();
      reject(new Error(`agent did not start within 20s:\n${out}`));
    }, 20_000);
    proc.stderr!.on("data", (d) => {
      out += d;
      const m = /API (https?:\/\/[^\s/]+)\/v1/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited (${code}) before it was ready:\n${out}`));
    });
  });
  const kill = async () => {
    killGroup();
    await exited;
  };
  return { proc, url, output: () => out, exited, kill };
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

/** The admin token a node's first start wrote to `<dataDir>/admin-token`, once it is there. */
export function adminTokenOf(dataDir: string): Promise<string> {
  const file = join(dataDir, "admin-token");
  return waitFor(`the admin token in ${file}`, async () =>
    existsSync(file) ? readFileSync(file, "utf8").trim() || undefined : undefined,
  );
}

/** A fetch that sends `Authorization: Bearer <token()>` with every request (headers given as an object). */
export function fetchWithToken(
  token: () => string,
): (input: string, init?: RequestInit) => Promise<Response> {
  return (input, init = {}) =>
    globalThis.fetch(input, {
      ...init,
      headers: {
        authorization: `Bearer ${token()}`,
        ...(init.headers as Record<string, string> | undefined),
      },
    });
}
