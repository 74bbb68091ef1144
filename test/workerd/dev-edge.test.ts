import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, adminTokenOf, startAgent, waitFor } from "../helpers/agent-process";
import { tempDir } from "../helpers/tmp";

// `npm run dev:edge` for real: scripts/dev-edge.ts runs `wrangler dev` in front of a control node
// process, passes CONTROL_TOKEN without a command line or a file in the repo, and takes wrangler's
// whole process group down when it is stopped.

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SCRIPT = join(ROOT, "scripts/dev-edge.ts");
const SECRET = randomBytes(16).toString("hex");
/** wrangler's debug log of the last run: one file in the temp dir, not one more per run in ~/.config. */
const WRANGLER_LOG = join(tmpdir(), "dkron-dev-edge-test-wrangler.log");

const dir = tempDir("dkron-dev-edge-test-");
let agent: AgentProcess | undefined;
let script: ChildProcess | undefined;
let wranglerPid: number | undefined;

/** True while a process group with this id has members. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pgid: number | undefined) {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // Gone already.
  }
}

/** A loopback port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  agent = await startAgent([
    "--bootstrap-expect",
    "1",
    "--data-dir",
    join(dir.path, "data"),
    "--node-name",
    "dev-node",
    "--control-token",
    SECRET,
  ]);
});

afterAll(async () => {
  // Whatever a failed case left: the script's group and wrangler's.
  killGroup(script?.pid);
  killGroup(wranglerPid);
  await agent?.kill();
  dir.cleanup();
});

describe("npm run dev:edge", () => {
  it("prints its help, and refuses a bad flag in one line with exit 1", () => {
    const help = spawnSync(process.execPath, ["--import", "tsx", SCRIPT, "--help"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage: npm run dev:edge");
    const bad = spawnSync(process.execPath, ["--import", "tsx", SCRIPT, "--port", "x"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe('dev:edge: --port: "x" is not a port (1-65535)');
  });

  it("serves /v1 through wrangler dev with CONTROL_TOKEN checked, then stops wrangler's whole group", async () => {
    const port = await freePort();
    rmSync(WRANGLER_LOG, { force: true });
    const { CONTROL_TOKEN: _, ...env } = process.env;
    script = spawn(
      process.execPath,
      ["--import", "tsx", SCRIPT, "--port", String(port), "--control-url", agent!.url],
      {
        cwd: ROOT,
        env: { ...env, CONTROL_TOKEN: SECRET, WRANGLER_LOG_PATH: WRANGLER_LOG },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      },
    );
    let out = "";
    script.stdout!.on("data", (d) => {
      out += d;
    });
    script.stderr!.on("data", (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((r) => script!.once("exit", (code) => r(code)));

    const ready = await waitFor(
      "the ready line",
      async () =>
        /dev:edge: Worker ready at (\S+)\/v1 \(wrangler pid (\d+)\); ([^;]+); CONTROL_TOKEN set/.exec(out) ??
        undefined,
      45_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${out}`);
    });
    wranglerPid = Number(ready[2]);
    expect(ready[1]).toBe(`http://127.0.0.1:${port}`);
    expect(ready[3]).toBe(`control at ${agent!.url} reachable`);

    // The secret is on no command line of wrangler's group, and in no file it was told to read but a
    // temp one outside the repo.
    const cmdline = readFileSync(`/proc/${wranglerPid}/cmdline`, "utf8");
    expect(cmdline).not.toContain(SECRET);
    const envFile = /--env-file\0([^\0]+)/.exec(cmdline)?.[1];
    expect(envFile).toBeDefined();
    expect(envFile!.startsWith(ROOT)).toBe(false);

    const token = await adminTokenOf(join(dir.path, "data"));
    const members = await fetch(`${ready[1]}/v1/members`, { headers: { authorization: `Bearer ${token}` } });
    expect(members.status).toBe(200);
    expect(((await members.json()) as { Name: string }[])[0]!.Name).toBe("dev-node");
    const anonymous = await fetch(`${ready[1]}/v1/members`);
    expect(anonymous.status).toBe(401);
    await anonymous.text();

    process.kill(script.pid!, "SIGTERM");
    expect(await exited).toBe(0);
    // wrangler's group is killed before the script exits; its last members may take a moment to go.
    await waitFor("wrangler's process group to be gone", async () =>
      groupAlive(wranglerPid!) ? undefined : true,
    );
    expect(existsSync(envFile!)).toBe(false);
  });
});
