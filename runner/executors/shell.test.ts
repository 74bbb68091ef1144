import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTRACT_IDENTITY, type ContractHarness, executorContract, observe } from "./contract";
import { createShellExecutor } from "./shell";

let dir: string;
let seq = 0;
// Fast grace periods keep the suite quick; the behaviour does not depend on their length.
const shell = createShellExecutor({ killGraceMs: 200, drainGraceMs: 300 });
const strays: number[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "shell-executor-"));
});
afterAll(() => {
  for (const pid of strays) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  rmSync(dir, { recursive: true, force: true });
  // Its spawner helper (it would also exit with this process).
  return shell.close?.();
});

/** True while the process exists and is not a zombie (PID 1 here may never reap orphans). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

const harness: ContractHarness = {
  executor: shell,
  succeedWith: (text) => ({ command: `printf %s '${text}'` }),
  fail: () => ({ command: "echo oops; exit 3", shell: "true" }),
  overrunTimeout: () => ({ command: "sleep 5", timeout: "300ms" }),
  echoIdentity: () => ({
    command: 'echo "$DKRON_JOB_NAME $DKRON_EXECUTION_ID $DKRON_SCHEDULED_AT"',
    shell: "true",
  }),
  twoParts: () => {
    const flag = join(dir, `release-${++seq}`);
    return {
      // Bounded wait, so a broken executor fails the test instead of hanging it.
      config: {
        command:
          'echo first; i=0; while [ ! -e "$FLAG" ] && [ $i -lt 400 ]; do sleep 0.02; i=$((i+1)); done; echo second',
        shell: "true",
        env: `FLAG=${flag}`,
      },
      release: () => writeFileSync(flag, ""),
    };
  },
  runUntilCancelled: () => ({ command: "echo started; sleep 30", shell: "true" }),
  echoPayload: () => ({ command: 'cat "$DKRON_WEBHOOK_PAYLOAD"', shell: "true" }),
  hugeOutput: () => ({
    config: { command: "seq 1 50000" },
    expected: `${Array.from({ length: 50000 }, (_, i) => i + 1).join("\n")}\n`,
  }),
  requiredKey: "command",
};

describe("shell executor: contract", () => {
  executorContract(() => harness);
});

describe("shell executor", () => {
  it("splits the command into argv honouring quotes and escapes, without a shell", async () => {
    const { result } = await observe(shell, { command: `printf '%s|' 'a b' "c d" e\\ f '$HOME' '*'` });
    expect(result.output).toBe("a b|c d|e f|$HOME|*|");
  });

  it("runs the command through /bin/sh when shell is true", async () => {
    const { result } = await observe(shell, { command: "echo $((1+2)) | tr 3 x", shell: "true" });
    expect(result.output).toBe("x\n");
  });

  it("interleaves stderr with stdout into one stream", async () => {
    const { result } = await observe(shell, { command: "echo out; echo err >&2; echo out2", shell: "true" });
    expect(result.output.split("\n").sort()).toEqual(["", "err", "out", "out2"]);
  });

  it("appends the env list to the runner's environment, with Dkron's ENV_JOB_NAME, and the identity wins", async () => {
    const executor = createShellExecutor({ env: { PATH: process.env.PATH, RUNNER_VAR: "from-runner" } });
    const { result } = await observe(executor, {
      command: 'echo "$RUNNER_VAR|$FOO|$BAR|$ENV_JOB_NAME|$DKRON_JOB_NAME"',
      shell: "true",
      env: "FOO=one,BAR=a=b,DKRON_JOB_NAME=spoofed",
    });
    expect(result.output).toBe(
      `from-runner|one|a=b|${CONTRACT_IDENTITY.jobName}|${CONTRACT_IDENTITY.jobName}\n`,
    );
  });

  it("runs in cwd", async () => {
    const { result } = await observe(shell, { command: "pwd", cwd: dir });
    expect(realpathSync(result.output.trim())).toBe(realpathSync(dir));
  });

  it("feeds a base64 payload to stdin", async () => {
    const { result } = await observe(shell, {
      command: "cat",
      payload: Buffer.from("hi there\n").toString("base64"),
    });
    expect(result.output).toBe("hi there\n");
  });

  it("writes a webhook payload to a private file named in DKRON_WEBHOOK_PAYLOAD, removed after the run", async () => {
    const payloadDir = mkdtempSync(join(dir, "payloads-"));
    const executor = createShellExecutor({ payloadDir });
    const { result } = await observe(
      executor,
      {
        command:
          'echo "$DKRON_WEBHOOK_PAYLOAD"; stat -c %a "$DKRON_WEBHOOK_PAYLOAD" "$(dirname "$DKRON_WEBHOOK_PAYLOAD")"; cat "$DKRON_WEBHOOK_PAYLOAD"',
        shell: "true",
      },
      { payload: "secret body" },
    );
    expect(result.success, result.error).toBe(true);
    const [path, fileMode, dirMode, body] = result.output.split("\n");
    expect(path!.startsWith(join(payloadDir, "dkron-payload-"))).toBe(true);
    expect([fileMode, dirMode, body]).toEqual(["600", "700", "secret body"]);
    expect(existsSync(path!)).toBe(false);
    expect(readdirSync(payloadDir)).toEqual([]);
  });

  it("removes the payload file after a failed or cancelled run too; no payload, no variable", async () => {
    const payloadDir = mkdtempSync(join(dir, "payloads-"));
    const executor = createShellExecutor({ payloadDir, killGraceMs: 200 });
    const failed = await observe(
      executor,
      { command: 'cat "$DKRON_WEBHOOK_PAYLOAD"; exit 4', shell: "true" },
      { payload: "p" },
    );
    expect(failed.result).toMatchObject({ success: false, exitCode: 4, output: "p" });
    const ac = new AbortController();
    const cancelled = await observe(
      executor,
      { command: "echo started; sleep 30", shell: "true" },
      {
        payload: "p",
        signal: ac.signal,
        onChunk: (seen) => {
          if (seen.includes("started")) ac.abort();
        },
      },
    );
    expect(cancelled.result.error).toMatch(/cancel/);
    expect(readdirSync(payloadDir)).toEqual([]);
    const none = await observe(executor, {
      command: `echo "[\${DKRON_WEBHOOK_PAYLOAD-unset}]"`,
      shell: "true",
    });
    expect(none.result.output).toBe("[unset]\n");
  });

  it("fails the run, running nothing, when the payload file cannot be written", async () => {
    const executor = createShellExecutor({ payloadDir: join(dir, "does-not-exist") });
    const { result, events } = await observe(executor, { command: "echo ran" }, { payload: "p" });
    expect(events).toEqual([]);
    expect(result.success).toBe(false);
    expect(result.error).toMatch(/^cannot write the webhook payload file: /);
  });

  it("reports a non-zero exit as exit status N with the exit code", async () => {
    const { result } = await observe(shell, { command: "sh -c 'exit 7'" });
    expect(result).toMatchObject({ success: false, error: "exit status 7", exitCode: 7 });
  });

  it("reports exit code 0 on success", async () => {
    const { result } = await observe(shell, { command: "true" });
    expect(result).toMatchObject({ success: true, exitCode: 0 });
  });

  it("reports a command that does not exist as a failed job", async () => {
    const { result, events } = await observe(shell, { command: "definitely-not-a-command-7f3a" });
    // It never started, so it reports no start (its result's started_at is when the runner tried).
    expect(events).toEqual([]);
    expect(result.success).toBe(false);
    expect(result.error).toMatch(/"definitely-not-a-command-7f3a" not found/);
  });

  it("tells a missing working directory apart from a missing command", async () => {
    const { result } = await observe(shell, { command: "true", cwd: join(dir, "nope") });
    expect(result.success).toBe(false);
    expect(result.error).toMatch(/working directory .* does not exist/);
  });

  it("reports death by a signal nobody here sent", async () => {
    const { result } = await observe(shell, { command: "kill -9 $$", shell: "true" });
    expect(result).toMatchObject({ success: false, error: "signal: SIGKILL" });
  });

  it("on timeout kills the whole process group, grandchildren included, and says so in the output", async () => {
    let grandchild = 0;
    let aliveWhileRunning = false;
    const { result } = await observe(
      shell,
      { command: "sleep 30 & echo $!; sleep 30", shell: "true", timeout: "500ms" },
      {
        onChunk: (seen) => {
          const m = /^(\d+)\n/.exec(seen);
          if (m && grandchild === 0) {
            grandchild = Number(m[1]);
            strays.push(grandchild);
            aliveWhileRunning = isAlive(grandchild);
          }
        },
      },
    );
    expect(aliveWhileRunning).toBe(true);
    expect(result.success).toBe(false);
    expect(result.error).toBe("job exceeded its timeout of 500ms and was killed");
    expect(result.output).toContain("shell: job exceeded its timeout of 500ms and was killed");
    expect(isAlive(grandchild)).toBe(false);
  });

  it("a kill aimed at the leader alone would leave the grandchild running (the check above can fail)", async () => {
    const leaderOnly = createShellExecutor({
      drainGraceMs: 200,
      killGroup: (pid, sig) => process.kill(pid, sig),
    });
    const { result } = await observe(leaderOnly, {
      command: "sleep 30 & echo $!; sleep 30",
      shell: "true",
      timeout: "300ms",
    });
    const grandchild = Number(/^(\d+)\n/.exec(result.output)?.[1]);
    strays.push(grandchild);
    expect(isAlive(grandchild)).toBe(true);
  });

  it("on cancel sends SIGTERM, then SIGKILL to a group that ignores it", async () => {
    const ac = new AbortController();
    let leader = 0;
    const { result } = await observe(
      shell,
      { command: "trap '' TERM; echo $$; echo started; sleep 30", shell: "true" },
      {
        signal: ac.signal,
        onChunk: (seen) => {
          if (seen.includes("started") && !ac.signal.aborted) {
            leader = Number(seen.split("\n")[0]);
            strays.push(leader);
            ac.abort();
          }
        },
      },
    );
    expect(result).toMatchObject({ success: false, error: "job was cancelled" });
    expect(result.output).toContain("shell: job was cancelled");
    expect(leader).toBeGreaterThan(0);
    expect(isAlive(leader)).toBe(false);
  });

  it("finishes when the command exits even if a background process keeps its output open", async () => {
    const { result } = await observe(shell, { command: "sleep 30 & echo $!; echo done", shell: "true" });
    strays.push(Number(result.output.split("\n")[0]));
    expect(result.success).toBe(true);
    expect(result.output).toContain("done\n");
    expect(result.output).toContain("a background process still holds its output");
  });

  it("keeps going when the output consumer throws", async () => {
    const result = await shell.execute({
      identity: CONTRACT_IDENTITY,
      config: { command: "echo fine" },
      signal: new AbortController().signal,
      onOutput: () => {
        throw new Error("consumer broke");
      },
    });
    expect(result).toMatchObject({ success: true, output: "fine\n" });
  });

  it("warns that mem_limit is not enforced", async () => {
    const { result } = await observe(shell, { command: "true", mem_limit: "512M" });
    expect(result.success).toBe(true);
    expect(result.output).toContain("mem_limit is not enforced");
  });

  it("refuses a command with an unquoted shell operator unless shell is true", async () => {
    const { result } = await observe(shell, { command: "echo a | tr a b" });
    expect(result.success).toBe(false);
    expect(result.error).toMatch(/executor_config.command contains the shell operator '\|'/);
  });
});

describe("the environment a job inherits", () => {
  it("leaves out the agent's secrets and keeps the rest", async () => {
    const { withoutSecrets } = await import("./shell");
    expect(
      withoutSecrets({
        PATH: "/bin",
        DKRON_CLUSTER_SECRET: "c",
        DKRON_CONTROL_TOKEN: "t",
        DKRON_RUNNER_TOKEN: "r",
        DKRON_TOKEN: "a",
        CONTROL_TOKEN: "w",
        DKRON_JOB_NAME: "kept",
      }),
    ).toEqual({ PATH: "/bin", DKRON_JOB_NAME: "kept" });
  });
});
