import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// `dkron schedule preview` as a user runs it: the real CLI in a child process, no server anywhere.

const BIN = fileURLToPath(new URL("../../control/bin/dkron.mjs", import.meta.url));

interface Ran {
  code: number | string;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in its own process group, killed as a group if it outlives the deadline. */
function dkron(...args: string[]): Promise<Ran> {
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], detached: true });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (d) => {
    stdout += d;
  });
  proc.stderr.on("data", (d) => {
    stderr += d;
  });
  const deadline = setTimeout(() => process.kill(-proc.pid!, "SIGKILL"), 20_000);
  return new Promise((resolve) =>
    proc.once("close", (code, signal) => {
      clearTimeout(deadline);
      resolve({ code: code ?? signal ?? -1, stdout, stderr });
    }),
  );
}

const lines = (text: string) => text.trimEnd().split("\n");

describe.concurrent("dkron schedule preview", () => {
  it("prints both occurrences of Berlin's repeated 02:00 for an hourly job", async () => {
    const r = await dkron(
      "schedule",
      "preview",
      "0 0 * * * *",
      "--timezone",
      "Europe/Berlin",
      "--from",
      "2026-10-25T01:30:00+02:00",
      "-n",
      "4",
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      "0 0 * * * * in Europe/Berlin, runs after 2026-10-24T23:30:00Z",
      "dst auto → twice,skip (follows real time: the hour field is *)",
      "",
      "#  LOCAL                      UTC                   NOTE",
      "1  2026-10-25T02:00:00+02:00  2026-10-25T00:00:00Z  02:00 happens twice as clocks fall back; this is its first occurrence",
      "2  2026-10-25T02:00:00+01:00  2026-10-25T01:00:00Z  02:00 happens twice as clocks fall back; this is its second occurrence",
      "3  2026-10-25T03:00:00+01:00  2026-10-25T02:00:00Z",
      "4  2026-10-25T04:00:00+01:00  2026-10-25T03:00:00Z",
    ]);
  });

  it("marks the wall time skip drops as not run, and does not count it", async () => {
    const r = await dkron(
      "schedule",
      "preview",
      "30 2 * * *",
      "--timezone=Europe/Berlin",
      "--dst",
      "skip",
      "--from",
      "2026-03-28T12:00:00Z",
      "-n",
      "2",
    );
    expect(r.code).toBe(0);
    expect(lines(r.stdout).slice(1)).toEqual([
      "dst skip → once,skip (the repeated hour as auto: fixed times of day: second 0, minute 30 and hour 2 are neither wildcards nor steps)",
      "",
      "   #  LOCAL                      UTC                   NOTE",
      "skip  2026-03-29T03:00:00+02:00  2026-03-29T01:00:00Z  NOT RUN: clocks jump from 02:00 to 03:00: 02:30 never happens and does not run (dst skip)",
      "   1  2026-03-30T02:30:00+02:00  2026-03-30T00:30:00Z  the first run after a DST transition (the offset changed)",
      "   2  2026-03-31T02:30:00+02:00  2026-03-31T00:30:00Z",
    ]);
  });

  it("prints the API's JSON with --json", async () => {
    const r = await dkron(
      "schedule",
      "preview",
      "0 */15 1-3 * * *",
      "--timezone",
      "America/New_York",
      "--from",
      "2026-11-01T00:00:00-04:00",
      "-n",
      "16",
      "--json",
    );
    expect(r.code).toBe(0);
    const p = JSON.parse(r.stdout) as { dst: unknown; entries: { local: string; mark: string | null }[] };
    expect(p.dst).toEqual({
      policy: "auto",
      rule: { repeated: "twice", missing: "skip" },
      reason: "follows real time: the minute field is */15",
    });
    expect(p.entries.filter((e) => e.local.startsWith("2026-11-01"))).toHaveLength(16);
    expect(p.entries.filter((e) => e.mark === "repeated-second")).toHaveLength(4);
  });

  it("lists runs from now when --from is not given", async () => {
    const r = await dkron("schedule", "preview", "@every", "1h", "-n", "1");
    expect(r.code).toBe(0);
    const after = Date.parse(/runs after (\S+)/.exec(r.stdout)![1]!);
    expect(Math.abs(after - Date.now())).toBeLessThan(60_000);
    expect(lines(r.stdout)[1]).toBe(
      "dst auto does not apply (@every counts elapsed time; DST transitions do not move it)",
    );
  });

  it("prints usage for dkron schedule --help, preview --help and lists schedule in dkron --help", async () => {
    const [group, preview, top] = await Promise.all([
      dkron("schedule", "--help"),
      dkron("schedule", "preview", "--help"),
      dkron("--help"),
    ]);
    expect([group.code, preview.code, top.code]).toEqual([0, 0, 0]);
    expect(lines(group.stdout)[0]).toBe("Usage: dkron schedule <command> [options]");
    expect(lines(preview.stdout)[0]).toBe('Usage: dkron schedule preview "<schedule>" [options]');
    expect(preview.stdout).toContain("--dst POLICY");
    expect(top.stdout).toMatch(/^ {2}schedule {2}preview: /m);
  });

  it.each([
    [["--bogus"], "dkron: unknown option --bogus (see dkron schedule preview --help)"],
    [["-n", "0"], 'dkron: -n: must be an integer from 1 to 1000, got "0"'],
    [
      ["--from", "yesterday"],
      'dkron: --from: expected an RFC3339 time with an offset, such as 2026-10-25T00:00:00+02:00, got "yesterday"',
    ],
    [["--timezone", "Mars/Olympus"], 'dkron: --timezone: unknown time zone "Mars/Olympus"'],
  ])("exits 1 with one line for %j", async (flags, message) => {
    const r = await dkron("schedule", "preview", "@hourly", ...flags);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`${message}\n`);
  });

  it("names the schedule when it is bad or missing", async () => {
    const [bad, missing] = await Promise.all([
      dkron("schedule", "preview", "61 * * * *"),
      dkron("schedule", "preview"),
    ]);
    expect([bad.code, missing.code]).toEqual([1, 1]);
    expect(bad.stderr).toBe('dkron: schedule: field "minute" value 61 out of range 0-59\n');
    expect(missing.stderr).toMatch(/^dkron: schedule: give the schedule to preview/);
  });
});
