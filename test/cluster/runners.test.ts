/**
 * Three control-node processes and three real `dkron-runner join` processes (different tags), all in
 * one gossip pool over real UDP on loopback; two runners find the pool through the control nodes'
 * gossip addresses the join answer carries, one is given a control node's with --gossip-join:
 * - every node lists every member from gossip (role, version, tags) and jobs land only on matching runners;
 * - a runner whose stream is cut (a TCP proxy between it and the leader, closed; gossip still flows)
 *   stays alive in /v1/members, shows `stream: down`, gets no run, and takes runs again once restored;
 * - SIGKILL of the leader while a run is in flight on a runner loses no result and runs nothing twice;
 * - SIGKILL of a runner makes its running execution `lost` within the lease and its member failed
 *   within the gossip bound.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveGossipConfig, suspicionMaxMs } from "../../runner/gossip";
import type { Member } from "../../shared/member";
import { waitFor } from "../helpers/agent-process";
import { type ClusterNode, getJson, startGossipCluster, type TestCluster } from "../helpers/cluster";
import { leaderExecutions, postShellJob, runJob, settledExecutions } from "../helpers/cluster-jobs";
import { killRunner, type RealRunner, RunnerProcs } from "../helpers/real-runner";
import { type TcpProxy, tcpProxy } from "../helpers/tcp-proxy";
import { tempDir } from "../helpers/tmp";

const LEASE_MS = 3000;
/** Control nodes plus runners: what the gossip bound is computed for. */
const POOL = 6;
const cfg = resolveGossipConfig();
/** A crashed member is dead everywhere within the unconfirmed suspicion timeout plus a probe round or two. */
const GOSSIP_BOUND_MS = suspicionMaxMs(cfg, POOL) + 3 * cfg.probeInterval;

const dir = tempDir("dkron-runners-");
let cluster: TestCluster | undefined;
const runners = new RunnerProcs();
let proxy: TcpProxy | undefined;

/** Where slow-b's shell writes its pid: the SIGKILLed runner leaves that job running. */
const jobPidFile = join(dir.path, "slow-b.pid");

afterAll(async () => {
  runners.killAll();
  try {
    process.kill(-Number(readFileSync(jobPidFile, "utf8").trim()), "SIGKILL");
  } catch {
    // never started, or already gone
  }
  await cluster?.stop();
  await proxy?.close();
  dir.cleanup();
});

/**
 * `dkron-runner join <url> --token <a fresh join token> --tags …` (gossip on a free loopback port,
 * joined through `gossipJoin` or else the control nodes' addresses the join answer carries);
 * resolves once it is connected to the leader.
 */
function startRunner(
  name: string,
  url: string,
  tags: string[],
  gossipJoin?: string,
  extra: string[] = [],
): Promise<RealRunner> {
  return runners.join(url, name, join(dir.path, name), {
    tags,
    extra: [...(gossipJoin ? ["--gossip-join", gossipJoin] : []), ...extra],
    tokenUrl: cluster!.nodes[0]!.url,
  });
}

const members = (n: ClusterNode) => getJson<Member[]>(`${n.url}/v1/members`);

/** The job's settled executions, waiting at most 20 s unless told. */
const settled = (c: TestCluster, job: string, count: number, timeoutMs = 20_000) =>
  settledExecutions(c, job, count, timeoutMs);

describe("remote runners in one gossip pool with a three-node cluster (real processes)", () => {
  it("targets by tags over live members, survives a stream cut, a leader kill and a runner kill", async () => {
    cluster = await startGossipCluster(dir.path, [
      "--heartbeat",
      "500ms",
      "--lease-timeout",
      `${LEASE_MS}ms`,
    ]);
    const c = cluster;
    const leader = await c.waitForLeader();
    const seed = `127.0.0.1:${c.nodes[0]!.gossipPort}`;
    proxy = await tcpProxy(leader.port);
    const follower = c.nodes.find((n) => n !== leader)!;
    await startRunner("ra", follower.url, ["zone=a", "pool=x"], undefined, ["--max-concurrent", "1"]);
    const rb = await startRunner("rb", follower.url, ["zone=b", "pool=x"]);
    // rc reaches the cluster only through the proxy in front of the leader (no redirect to follow).
    await startRunner("rc", `http://127.0.0.1:${proxy.port}`, ["zone=c"], seed);

    // Every node sees all six members alive from gossip, runners with their role and tags; the leader
    // sees every runner's stream up.
    const last = c.nodes[2]!;
    const seen = await waitFor(
      "six alive members on the third node",
      async () => {
        const ms = await members(last);
        return ms && ms.length === 6 && ms.every((m) => m.statusText === "alive") ? ms : undefined;
      },
      20_000,
    );
    const ra = seen.find((m) => m.Name === "ra")!;
    expect(ra.Tags).toMatchObject({ role: "runner", zone: "a", version: "0.1.0" });
    expect(ra.Tags.gossip_addr).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(
      seen
        .filter((m) => m.Tags.role === "dkron")
        .map((m) => m.Name)
        .sort(),
    ).toEqual(["n1", "n2", "n3"]);
    await waitFor("every runner's stream up on the leader", async () => {
      const ms = await members(leader);
      const streams = ["ra", "rb", "rc"].map((n) => ms?.find((m) => m.Name === n)?.Tags.stream);
      return streams.every((s) => s === "connected") ? true : undefined;
    });

    // Tag targeting: zone=b runs on rb only; a control-node tag on a control node.
    await postShellJob(leader.url, "on-b", { zone: "b" }, "true");
    for (let i = 0; i < 3; i++) await runJob(leader.url, "on-b");
    const onB = await settled(c, "on-b", 3);
    expect(onB.map((e) => e.node_name)).toEqual(["rb", "rb", "rb"]);
    expect(onB.every((e) => e.state === "success")).toBe(true);
    await postShellJob(leader.url, "on-server", { server: "true:1" }, "true");
    await runJob(leader.url, "on-server");
    const [onServer] = await settled(c, "on-server", 1);
    expect(["n1", "n2", "n3"]).toContain(onServer!.node_name);

    // Capacity: three @at jobs due the same second, each for one runner of pool x. ra takes at most
    // one (--max-concurrent 1): the starts planned in that tick count each other, so none is sent
    // to a full ra and refused there.
    const due = new Date(Math.ceil((Date.now() + 3000) / 1000) * 1000).toISOString();
    for (const name of ["burst-1", "burst-2", "burst-3"]) {
      const r = await fetch(`${leader.url}/v1/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          name,
          schedule: `@at ${due}`,
          executor: "shell",
          executor_config: { command: "sleep 1", shell: "true" },
          tags: { pool: "x:1" },
        }),
      });
      expect(r.status, await r.text()).toBeLessThan(300);
    }
    const burst = await Promise.all(["burst-1", "burst-2", "burst-3"].map((j) => settled(c, j, 1)));
    expect(burst.map(([e]) => [e!.state, e!.output])).toEqual(burst.map(() => ["success", ""]));
    expect(burst.filter(([e]) => e!.node_name === "ra").length).toBeLessThanOrEqual(1);

    // Stream cut: gossip still says alive, the leader says stream down, and no run goes to rc.
    await proxy.cut();
    await waitFor("rc alive with its stream down", async () => {
      const m = (await members(leader))?.find((x) => x.Name === "rc");
      return m?.statusText === "alive" && m.Tags.stream === "down" ? true : undefined;
    });
    await postShellJob(leader.url, "on-c", { zone: "c" }, "true");
    await runJob(leader.url, "on-c");
    const [cut] = await settled(c, "on-c", 1);
    expect(cut!.node_name).not.toBe("rc");
    expect(cut!.state).toBe("failed");
    // Restored: rc reconnects by itself and takes runs again.
    await proxy.restore();
    await waitFor(
      "rc's stream up again",
      async () => {
        const m = (await members(leader))?.find((x) => x.Name === "rc");
        return m?.Tags.stream === "connected" ? true : undefined;
      },
      20_000,
    );
    await runJob(leader.url, "on-c");
    const afterCut = await settled(c, "on-c", 2);
    expect(afterCut.filter((e) => e.node_name === "rc" && e.state === "success")).toHaveLength(1);

    // SIGKILL of the leader while ra runs a job: the result is not lost and nothing runs twice.
    const file = join(dir.path, "slow-a.txt");
    await postShellJob(leader.url, "slow-a", { zone: "a" }, `sleep 2; echo ran >> ${file}`);
    await runJob(leader.url, "slow-a");
    await waitFor("slow-a running on ra", async () => {
      const es = await leaderExecutions(c, "slow-a");
      return es?.some((e) => e.state === "running" && e.node_name === "ra") ? true : undefined;
    });
    await c.kill(leader);
    const next = await c.waitForLeader(30_000, c.alive());
    expect(next).not.toBe(leader);
    const slow = await settled(c, "slow-a", 1, 30_000);
    expect(slow).toHaveLength(1);
    expect(slow[0]).toMatchObject({ node_name: "ra", state: "success" });
    expect(readFileSync(file, "utf8")).toBe("ran\n");

    // SIGKILL of a runner mid-run: its execution is lost within the lease, its member failed within
    // the gossip bound (as seen from a surviving node).
    // The job's shell is its own process group (the executor spawns it detached) and outlives the
    // runner's SIGKILL; it writes its pid so afterAll ends it.
    await postShellJob(next.url, "slow-b", { zone: "b" }, `echo $$ > ${jobPidFile}; exec sleep 60`);
    await runJob(next.url, "slow-b");
    await waitFor("slow-b running on rb", async () => {
      const es = await leaderExecutions(c, "slow-b");
      return es?.some((e) => e.state === "running" && e.node_name === "rb") ? true : undefined;
    });
    killRunner(rb);
    const killedAt = Date.now();
    await waitFor(
      "rb failed in gossip",
      async () => {
        const m = (await members(next))?.find((x) => x.Name === "rb");
        return m?.statusText === "failed" ? true : undefined;
      },
      GOSSIP_BOUND_MS + 5000,
    );
    const [lost] = await settled(c, "slow-b", 1, LEASE_MS + 10_000);
    expect(lost!.state).toBe("lost");
    console.log(`rb failed in gossip and lost its run ${Date.now() - killedAt} ms after SIGKILL`);
  }, 180_000);
});
