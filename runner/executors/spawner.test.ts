import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { observe } from "./contract";
import { createShellExecutor } from "./shell";
import { Spawner } from "./spawner";

const killGroup = (pgid: number, signal: NodeJS.Signals) => process.kill(-pgid, signal);
const spawners: Spawner[] = [];
const strays: number[] = [];
afterEach(() => {
  for (const s of spawners.splice(0)) s.stop();
  for (const pid of strays.splice(0)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
  }
});

/** True while the process exists and is not a zombie. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

function executor() {
  const spawner = new Spawner({ killGroup });
  spawners.push(spawner);
  return { spawner, shell: createShellExecutor({ spawn: spawner.spawn, killGroup, drainGraceMs: 300 }) };
}

describe("spawner: commands forked by a helper process", () => {
  it("runs commands in the helper's children, not this process's, with output, exit code and env", async () => {
    const { spawner, shell } = executor();
    const { result } = await observe(shell, {
      command: 'echo "$PPID $FOO"; exit 3',
      shell: "true",
      env: "FOO=bar",
    });
    expect(result).toMatchObject({ success: false, exitCode: 3, error: "exit status 3" });
    // sh's parent is the helper: the fork did not happen on this event loop.
    expect(result.output).toBe(`${spawner.helperPid()} bar\n`);
    expect(spawner.helperPid()).not.toBe(process.pid);
  });

  it("a helper that dies mid-run ends the run as failed, kills its process group, and is replaced", async () => {
    const { spawner, shell } = executor();
    let leader = 0;
    const run = observe(
      shell,
      { command: "echo $$; sleep 30", shell: "true" },
      {
        onChunk: (seen) => {
          leader ||= Number(seen.split("\n")[0]);
        },
      },
    );
    await until(() => leader > 0, "the command's pid");
    strays.push(leader);
    const helper = spawner.helperPid()!;
    process.kill(helper, "SIGKILL");
    const { result } = await run;
    expect(result.success).toBe(false);
    expect(result.output).toContain("spawner process died");
    await until(() => !isAlive(leader), "the command to be killed");
    // The next run starts a new helper.
    const again = await observe(shell, { command: "echo again" });
    expect(again.result).toMatchObject({ success: true, output: "again\n" });
    expect(spawner.helperPid()).not.toBe(helper);
  });

  it("a signal to the helper's group (a Ctrl-C meant for the agent) does not end it; stop() does", async () => {
    const { spawner, shell } = executor();
    let started = false;
    const run = observe(
      shell,
      { command: "echo started; sleep 0.3; echo done", shell: "true" },
      { onChunk: () => (started = true) },
    );
    await until(() => started, "the command to start");
    const helper = spawner.helperPid()!;
    process.kill(helper, "SIGINT");
    process.kill(helper, "SIGTERM");
    expect((await run).result).toMatchObject({ success: true, output: "started\ndone\n" });
    expect(isAlive(helper)).toBe(true);
    spawner.stop();
    await until(() => !isAlive(helper), "the helper to exit");
  });
});
