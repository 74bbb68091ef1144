/**
 * A remote runner follows the leader through any control node it knows, and tells the leader when
 * it drains (real `dkron agent` and `dkron-runner` processes, gossip over real UDP on loopback):
 * - a runner joined THROUGH THE LEADER, then the leader SIGKILLed: the runner reconnects to the new
 *   leader through the other control nodes the welcome named, and a run-now of its job runs on it;
 * - that runner restarted with `dkron-runner start` while its saved control URL's node is still dead
 *   connects through the control nodes saved in controls.json, and runs its job again;
 * - two runners with one tag, SIGTERM one while it runs a long job: the leader marks it draining,
 *   every run triggered meanwhile lands on the other runner and succeeds, the long job finishes on
 *   the draining one and its result is delivered, and it exits 0.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Member } from "../../shared/member";
import type { RunnerJson } from "../../shared/runner-token";
import { waitFor } from "../helpers/agent-process";
import { type ClusterNode, getJson, startGossipCluster, type TestCluster } from "../helpers/cluster";
import { leaderExecutions, postShellJob, runJob, settledExecutions } from "../helpers/cluster-jobs";
import { killRunner, type RealRunner, RunnerProcs, waitForLine } from "../helpers/real-runner";
import { tempDir } from "../helpers/tmp";

const dir = tempDir("dkron-runner-failover-");
let cluster: TestCluster | undefined;
const runners = new RunnerProcs();

afterAll(async () => {
  runners.killAll();
  await cluster?.stop();
  dir.cleanup();
});

/** `dkron-runner join` of `name` through `url` (gossip on a free loopback port); resolves once connected. */
function joinRunner(url: string, name: string, tags: string[], grace = "20000"): Promise<RealRunner> {
  return runners.join(url, name, join(dir.path, name), {
    tags,
    extra: ["--shutdown-grace", grace],
    timeoutMs: 30_000,
  });
}

/** The runner's entry in the leader's /v1/runners. */
async function runnerOn(leader: ClusterNode, name: string): Promise<RunnerJson | undefined> {
  return (await getJson<RunnerJson[]>(`${leader.url}/v1/runners`, 5000))?.find((r) => r.name === name);
}

/** Waits until the current leader says `name`'s stream is connected (in /v1/runners and /v1/members). */
async function connectedOnLeader(c: TestCluster, name: string, timeoutMs = 40_000): Promise<ClusterNode> {
  return waitFor(
    `${name}'s stream connected to the leader`,
    async () => {
      const l = await c.leader(c.alive());
      if (!l || !(await runnerOn(l, name))?.connected) return undefined;
      const m = (await getJson<Member[]>(`${l.url}/v1/members`))?.find((x) => x.Name === name);
      return m?.Tags.stream === "connected" ? l : undefined;
    },
    timeoutMs,
  );
}

describe("runner failover and drain (real processes)", () => {
  it("a runner joined through the leader follows a new leader after a SIGKILL, also across a restart while that node is dead", async () => {
    cluster = await startGossipCluster(dir.path, ["--heartbeat", "500ms", "--lease-timeout", "3000ms"]);
    const c = cluster;
    const leader = await c.waitForLeader();
    const first = await joinRunner(leader.url, "rf", ["zone=f"]);
    // The welcome named every control node; the runner saved them next to its credential.
    const saved = await waitFor("controls.json with three nodes", async () => {
      try {
        const s = JSON.parse(readFileSync(join(dir.path, "rf", "controls.json"), "utf8")) as {
          controls: string[];
        };
        return s.controls.length === 3 ? s.controls : undefined;
      } catch {
        return undefined;
      }
    });
    expect(saved[0]).toBe(leader.url);
    expect([...saved].sort()).toEqual(c.nodes.map((n) => n.url).sort());

    await postShellJob(leader.url, "on-f", { zone: "f" }, "echo ran-on-f");
    await runJob(leader.url, "on-f");
    expect((await settledExecutions(c, "on-f", 1))[0]).toMatchObject({ node_name: "rf", state: "success" });

    // The node it joined through (and saved) dies: it finds the new leader through the others.
    await c.kill(leader);
    const next = await c.waitForLeader(30_000, c.alive());
    expect(next).not.toBe(leader);
    const leading = await connectedOnLeader(c, "rf");
    await runJob(leading.url, "on-f");
    const afterKill = await settledExecutions(c, "on-f", 2);
    expect(afterKill.filter((e) => e.node_name === "rf" && e.state === "success")).toHaveLength(2);

    // Restarted from its data dir while the saved control URL's node is still dead.
    killRunner(first);
    await first.exited;
    const again = runners.spawn([
      "start",
      "--data-dir",
      join(dir.path, "rf"),
      "--gossip-bind",
      "127.0.0.1:0",
    ]);
    await waitForLine(again, /connected to/, 40_000);
    const l2 = await connectedOnLeader(c, "rf");
    await runJob(l2.url, "on-f");
    const afterRestart = await settledExecutions(c, "on-f", 3);
    expect(afterRestart.filter((e) => e.node_name === "rf" && e.state === "success")).toHaveLength(3);
  }, 180_000);

  it("SIGTERM drains: the leader sends the draining runner nothing new, the other runner takes every run", async () => {
    const c = cluster!;
    const leader = await c.waitForLeader(30_000, c.alive());
    const d1 = await joinRunner(leader.url, "d1", ["pool=d"]);
    const d2 = await joinRunner(leader.url, "d2", ["pool=d"]);
    const byName = { d1, d2 };
    await connectedOnLeader(c, "d1");
    await connectedOnLeader(c, "d2");

    await postShellJob(leader.url, "drain-long", { pool: "d:1" }, "sleep 4; echo finished");
    await runJob(leader.url, "drain-long");
    const long = await waitFor("drain-long running on a pool=d runner", async () =>
      (await leaderExecutions(c, "drain-long"))?.find(
        (e) => e.state === "running" && e.node_name.startsWith("d"),
      ),
    );
    const drainer = long.node_name as "d1" | "d2";
    const other = drainer === "d1" ? "d2" : "d1";
    process.kill(byName[drainer].proc.pid as number, "SIGTERM");
    await waitFor(`${drainer} draining on the leader`, async () => {
      const r = await runnerOn(leader, drainer);
      return r?.connected && r.draining ? true : undefined;
    });
    const m = (await getJson<Member[]>(`${leader.url}/v1/members`))?.find((x) => x.Name === drainer);
    expect(m?.Tags.stream).toBe("draining");

    // Runs triggered during the drain all go to the other runner and succeed.
    await postShellJob(leader.url, "drain-short", { pool: "d:1" }, "echo short");
    for (let i = 0; i < 6; i++) await runJob(leader.url, "drain-short");
    const shorts = await settledExecutions(c, "drain-short", 6);
    expect(shorts.map((e) => `${e.node_name}:${e.state}`)).toEqual(Array(6).fill(`${other}:success`));

    // The draining runner's job finished there, its result was delivered, and it exited 0.
    expect(await byName[drainer].exited).toBe(0);
    const [done] = await settledExecutions(c, "drain-long", 1);
    expect(done).toMatchObject({ node_name: drainer, state: "success" });
    expect(done!.output).toContain("finished");
  }, 120_000);
});
