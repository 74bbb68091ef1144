/**
 * Join tokens and revocation with the real `dkron-runner` CLI against a three-node cluster (real
 * processes, gossip over real UDP on loopback):
 * - a bad and an expired join token: one clear line, exit 1, nothing registered;
 * - a bad --shutdown-grace, --log-level, --ca-file or --token-file, or a reserved tag (--tags
 *   server=true): one line, exit 1, and the token is not spent; --token-file then joins;
 * - one single-use token, two `dkron-runner join` processes at once: exactly one joins;
 * - `dkron runner revoke NAME` cuts that runner's stream at once: it says it was revoked and exits 78,
 *   and a restart with `dkron-runner start` from its saved credential fails the same way;
 * - SIGTERM drains: the running execution finishes and its result is delivered, the runner leaves
 *   the gossip pool (listed `left`) and exits 0;
 * - a single-use token used once, the leader SIGKILLed, then used again through a surviving node:
 *   the new leader refuses it.
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import type { Member } from "../../shared/member";
import { waitFor } from "../helpers/agent-process";
import { getJson, startGossipCluster, type TestCluster } from "../helpers/cluster";
import { postShellJob, runJob } from "../helpers/cluster-jobs";
import {
  createJoinToken,
  type RealRunner,
  RunnerProcs,
  joinArgs as runnerJoinArgs,
  waitForLine,
} from "../helpers/real-runner";
import { tempDir } from "../helpers/tmp";

const DKRON = fileURLToPath(new URL("../../control/bin/dkron.mjs", import.meta.url));
const run = promisify(execFile);
const dir = tempDir("dkron-runner-join-");
let cluster: TestCluster | undefined;
const runners = new RunnerProcs();

afterAll(async () => {
  runners.killAll();
  await cluster?.stop();
  dir.cleanup();
});

/** `dkron-runner join` of `name` through `url` with `token`, gossip on a free loopback port. */
function joinRunner(url: string, token: string, name: string, tags: string[] = []): RealRunner {
  return runners.spawn(joinArgs(url, token, name, tags));
}

/** The arguments of `joinRunner`'s command. */
function joinArgs(url: string, token: string, name: string, tags: string[] = []): string[] {
  return runnerJoinArgs(url, token, name, join(dir.path, name), {
    tags,
    extra: ["--shutdown-grace", "5000"],
  });
}

/** The refusal a runner printed: exactly one line, exit 1. */
async function refused(r: RealRunner): Promise<string> {
  expect(await r.exited).toBe(1);
  const lines = r.stderr().trim().split("\n");
  expect(lines, r.stderr()).toHaveLength(1);
  return lines[0]!;
}

async function registered(url: string): Promise<string[]> {
  const list = await getJson<{ name: string }[]>(`${url}/v1/runners`, 5000);
  return (list ?? []).map((r) => r.name).sort();
}

describe("dkron-runner join tokens and revocation (real processes)", () => {
  it("refuses bad, expired and spent tokens (also across a leader kill); revoke ends a runner; SIGTERM drains and leaves", async () => {
    cluster = await startGossipCluster(dir.path);
    const c = cluster;
    const leader = await c.waitForLeader();
    const follower = c.nodes.find((n) => n !== leader)!;

    // A bad token and an expired one: one line, exit 1, nothing registered.
    const bad = await refused(
      joinRunner(follower.url, "drj.AAAAAAAAAAAAAAAA.not-the-secret-not-the-secret-xx", "bad"),
    );
    expect(bad).toMatch(/^dkron-runner: join refused: /);
    const expiredToken = await createJoinToken(leader.url, { ttl: "1ms" });
    await new Promise((r) => setTimeout(r, 20));
    const expired = await refused(joinRunner(follower.url, expiredToken, "late"));
    expect(expired).toMatch(/^dkron-runner: join refused: .*expired/);
    expect(await registered(leader.url)).toEqual([]);

    // Flag mistakes are caught before the token is spent: one line each, nothing registered, and
    // the same single-use token then joins below.
    const once = await createJoinToken(leader.url, { single_use: true });
    for (const [flag, value] of [
      ["--shutdown-grace", "abc"],
      ["--log-level", "verbose"],
      ["--ca-file", join(dir.path, "no-such-ca.pem")],
      ["--tags", "server=true"],
      ["--token-file", join(dir.path, "no-such-token")],
    ] as const) {
      const mistake = runners.spawn([...joinArgs(follower.url, once, "careful"), flag, value]);
      expect(await refused(mistake)).toMatch(new RegExp(`^dkron-runner: ${flag}`));
    }
    expect(await registered(leader.url)).toEqual([]);

    // That single-use token, two joins at once (one through a follower, reading it from a file
    // so it is not on its command line): exactly one succeeds.
    const tokenFile = join(dir.path, "join-token");
    writeFileSync(tokenFile, `${once}\n`, { mode: 0o600 });
    const a = runners.spawn(
      joinArgs(follower.url, once, "twin-a").map((x, i, all) =>
        x === "--token" ? "--token-file" : all[i - 1] === "--token" ? tokenFile : x,
      ),
    );
    const b = joinRunner(leader.url, once, "twin-b");
    const first = await Promise.race([
      waitForLine(a, /connected to/).then(() => ({ ok: a, no: b })),
      waitForLine(b, /connected to/).then(() => ({ ok: b, no: a })),
    ]);
    const line = await refused(first.no);
    expect(line).toMatch(/^dkron-runner: join refused: /);
    const winner = first.ok === a ? "twin-a" : "twin-b";
    expect(await registered(leader.url)).toEqual([winner]);
    // The join answer told it the control nodes' gossip addresses, saved for later starts.
    const saved = JSON.parse(readFileSync(join(dir.path, winner, "gossip.json"), "utf8")) as {
      seeds: string[];
    };
    expect(saved.seeds.sort()).toEqual(c.nodes.map((n) => `127.0.0.1:${n.gossipPort}`).sort());

    // Revoke: the stream is cut at once, the process says it was revoked and exits 78 (EX_CONFIG:
    // the systemd unit in docs/runners.md does not restart it).
    await run(process.execPath, [
      DKRON,
      "runner",
      "revoke",
      winner,
      "--http-addr",
      `127.0.0.1:${leader.port}`,
    ]);
    expect(await first.ok.exited).toBe(78);
    expect(first.ok.stderr()).toMatch(/revoked/);
    // Its credential never works again: a restart from the data dir fails the same way.
    const again = runners.spawn([
      "start",
      "--data-dir",
      join(dir.path, winner),
      "--gossip-bind",
      "127.0.0.1:0",
    ]);
    expect(await again.exited).toBe(78);
    expect(again.stderr()).toMatch(/revoked/);
    expect(await registered(leader.url)).toEqual([]);

    // SIGTERM while a job runs: it finishes, its result is delivered, the runner leaves, exit 0.
    const d = joinRunner(follower.url, await createJoinToken(leader.url), "drainer", ["zone=d"]);
    await waitForLine(d, /connected to/);
    await waitFor("drainer alive in gossip", async () => {
      const ms = await getJson<Member[]>(`${leader.url}/v1/members`);
      return ms?.find((m) => m.Name === "drainer")?.statusText === "alive" ? true : undefined;
    });
    await postShellJob(leader.url, "drain-me", { zone: "d" }, "sleep 1; echo finished");
    await runJob(leader.url, "drain-me");
    type Exec = { state: string; node_name: string; output: string };
    const execs = () => getJson<Exec[]>(`${leader.url}/v1/jobs/drain-me/executions`, 5000);
    await waitFor("drain-me running on drainer", async () =>
      (await execs())?.some((e) => e.state === "running" && e.node_name === "drainer") ? true : undefined,
    );
    process.kill(d.proc.pid as number, "SIGTERM");
    expect(await d.exited).toBe(0);
    const [done] = (await execs()) ?? [];
    expect(done).toMatchObject({ state: "success", node_name: "drainer" });
    expect(done!.output).toContain("finished");
    const left = await waitFor("drainer left in gossip", async () => {
      const m = (await getJson<Member[]>(`${leader.url}/v1/members`))?.find((x) => x.Name === "drainer");
      return m?.statusText === "left" ? m : undefined;
    });
    expect(left.Tags.gossip).toBe("left");

    // A single-use token used once, then the leader SIGKILLed: the second join reaches the new
    // leader through a surviving node and is refused.
    const spent = await createJoinToken(leader.url, { single_use: true });
    const c1 = joinRunner(follower.url, spent, "before-kill");
    await waitForLine(c1, /connected to/);
    await c.kill(leader);
    const next = await c.waitForLeader(30_000, c.alive());
    const c2 = joinRunner(next.url, spent, "after-kill");
    expect(await refused(c2)).toMatch(/^dkron-runner: join refused: /);
    expect(
      await waitFor("the runners list on the new leader", async () => {
        const names = await registered(next.url);
        return names.includes("before-kill") ? names : undefined;
      }),
    ).toEqual(["before-kill", "drainer"]);
  }, 120_000);
});
