import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { transferTarget } from "../../control/cluster/discovery";
import { waitFor } from "../helpers/agent-process";
import { type ClusterNode, getJson, postManualJob, TestCluster } from "../helpers/cluster";
import { tempDir } from "../helpers/tmp";

const BIN = fileURLToPath(new URL("../../control/bin/dkron.mjs", import.meta.url));
const SECRET = "membership-secret";
const run = promisify(execFile);

/** Runs the real `dkron` CLI and returns its stdout. */
async function dkron(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [BIN, ...args], { timeout: 20_000 });
  return stdout;
}

/** `dkron raft list-peers` parsed into { id: "voter" | "learner" }. */
async function listPeers(via: ClusterNode): Promise<Record<string, "voter" | "learner">> {
  const out = await dkron("raft", "list-peers", "--http-addr", via.url, "--cluster-secret", SECRET);
  const rows = out.trim().split("\n").slice(1);
  return Object.fromEntries(
    rows.map((r) => {
      const cols = r.trim().split(/\s+/);
      return [cols[0]!, cols[cols.length - 1] === "true" ? "voter" : "learner"];
    }),
  );
}

const postJob = (via: ClusterNode, name: string) => postManualJob(via.url, name);

/** Waits until `id` is a voter in `dkron raft list-peers` as `via` reports it. */
const untilVoter = (via: ClusterNode, id: string) =>
  waitFor(`${id} a voter`, async () => ((await listPeers(via))[id] === "voter" ? true : undefined), 30_000);

/** A job as this node's own copy has it (?stale reads the local state, not through the leader). */
const localJob = async (on: ClusterNode, name: string) =>
  (await fetch(`${on.url}/v1/jobs/${name}?stale=true`)).status;

const byName = (a: ClusterNode, b: ClusterNode) => a.name.localeCompare(b.name);

const dir = tempDir("dkron-membership-");
let cluster: TestCluster | undefined;
let grown: TestCluster | undefined;
let quartet: TestCluster | undefined;
afterAll(async () => {
  await cluster?.stop();
  await grown?.stop();
  await quartet?.stop();
  dir.cleanup();
});

describe("cluster membership (real processes)", () => {
  it("a fourth node joins as a learner and is promoted; leave and remove-peer shrink the configuration", async () => {
    cluster = await TestCluster.start({ size: 3, baseDir: dir.path, secret: SECRET, profile: "fast" });
    const c = cluster;
    const leader = await c.waitForLeader();
    expect(await listPeers(leader)).toEqual({ n1: "voter", n2: "voter", n3: "voter" });

    // A new node joins through the existing ones; once caught up the leader promotes it.
    const n4 = await c.addNode();
    await untilVoter(leader, "n4");
    // It serves the API like any member: a write through it reaches every node.
    expect((await postJob(n4, "via-n4")).status).toBe(201);
    for (const n of c.nodes)
      expect((await fetch(`${n.url}/v1/jobs/via-n4`)).status, `job on ${n.name}`).toBe(200);

    // POST /v1/leave: the node leaves the configuration and its process exits.
    const exited = new Promise((r) => n4.proc!.once("exit", r));
    expect((await fetch(`${n4.url}/v1/leave`, { method: "POST" })).status).toBeLessThan(300);
    await exited;
    await waitFor(
      "n4 gone from the configuration",
      async () => {
        const peers = await listPeers(leader);
        return !("n4" in peers) && Object.keys(peers).length === 3 ? true : undefined;
      },
      20_000,
    );

    // A dead follower is removed by hand; the two left still make a quorum and accept writes.
    const now = await c.waitForLeader(15_000, c.alive());
    const victim = c.alive().find((n) => n !== now && n !== n4)!;
    await c.kill(victim);
    const out = await dkron(
      "raft",
      "remove-peer",
      "--peer-id",
      victim.name,
      "--http-addr",
      c.alive().find((n) => n !== now)!.url,
      "--cluster-secret",
      SECRET,
    );
    expect(out).toContain(`removed ${victim.name}`);
    const left = await listPeers(now);
    expect(Object.keys(left).sort()).toEqual(
      c
        .alive()
        .map((n) => n.name)
        .sort(),
    );
    expect((await postJob(now, "after-remove")).status).toBe(201);
    const st = await getJson<{ raft: { state: string } }>(`${now.url}/v1/`);
    expect(st?.raft.state).toBe("leader");

    // Restarted with its data dir, where it is still a voter: no leader talks to it, so after a few
    // election timeouts it asks to join again through --join and catches up.
    c.spawn(victim);
    await untilVoter(now, victim.name);
    await waitFor(`after-remove on ${victim.name}`, async () =>
      (await localJob(victim, "after-remove")) === 200 ? true : undefined,
    );
  }, 120_000);

  it("grows a single node started with a cluster secret into a three-node cluster that survives losing it", async () => {
    grown = await TestCluster.start({
      size: 1,
      baseDir: `${dir.path}/grown`,
      secret: SECRET,
      profile: "fast",
    });
    const c = grown;
    const n1 = await c.waitForLeader();
    expect((await postJob(n1, "from-the-start")).status).toBe(201);

    const n2 = await c.addNode();
    await untilVoter(n1, "n2");
    const n3 = await c.addNode();
    await untilVoter(n1, "n3");
    for (const n of [n2, n3])
      expect((await fetch(`${n.url}/v1/jobs/from-the-start`)).status, `job on ${n.name}`).toBe(200);

    // The node it grew from is no longer a single point of failure.
    await c.kill(n1);
    const next = await c.waitForLeader(15_000, [n2, n3]);
    expect((await postJob(next, "after-n1")).status).toBe(201);
    expect((await fetch(`${next.url}/v1/jobs/from-the-start`)).status).toBe(200);
  }, 120_000);

  it("the leader leaves while a follower is dead: it hands over to a live voter, leaves the configuration, and rejoins when restarted", async () => {
    quartet = await TestCluster.start({
      size: 4,
      baseDir: `${dir.path}/quartet`,
      secret: SECRET,
      profile: "fast",
      extraArgs: ["--log-level", "info"],
    });
    const c = quartet;
    const leader = await c.waitForLeader();
    expect((await postJob(leader, "before-leave")).status).toBe(201);

    // The first other voter in id order: the one a leader that does not check liveness would pick.
    const dead = c.nodes.filter((n) => n !== leader).sort(byName)[0]!;
    await c.kill(dead);
    expect((await fetch(`${leader.url}/v1/leave`, { method: "POST" })).status).toBeLessThan(300);
    expect(await c.waitForExit(leader, 40_000)).toBe(0);

    // Two live voters of three still make a quorum: a leader, and the one that left is out.
    const rest = c.alive();
    const next = await c.waitForLeader(15_000, rest);
    expect(Object.keys(await listPeers(next)).sort()).toEqual(
      c.nodes
        .filter((n) => n !== leader)
        .map((n) => n.name)
        .sort(),
    );
    // It handed leadership to a live voter and stopped only once out of the configuration.
    expect(leader.log).not.toContain(`"to":"${dead.name}"`);
    expect(leader.log).toContain("left the raft configuration");
    for (const name of ["while-away-1", "while-away-2"]) expect((await postJob(next, name)).status).toBe(201);

    // Restarted with its old data dir and the same flags: it asks to join again, catches up, is a voter.
    c.spawn(leader);
    await untilVoter(next, leader.name);
    for (const name of ["before-leave", "while-away-1", "while-away-2"])
      await waitFor(`${name} on ${leader.name}`, async () =>
        (await localJob(leader, name)) === 200 ? true : undefined,
      );
    expect(leader.log).toContain("asking to join again");
  }, 90_000);

  it("a running node removed with dkron raft remove-peer stops instead of lingering", async () => {
    const c = quartet!;
    const leader = await c.waitForLeader(15_000, c.alive());
    const victim = c.alive().find((n) => n !== leader)!;
    const out = await dkron(
      "raft",
      "remove-peer",
      "--peer-id",
      victim.name,
      "--http-addr",
      leader.url,
      "--cluster-secret",
      SECRET,
    );
    expect(out).toContain(`removed ${victim.name}`);
    expect(await c.waitForExit(victim, 20_000)).toBe(0);
    expect(victim.log).toContain("removed from the cluster");
    expect((await postJob(leader, "after-removing-a-live-node")).status).toBe(201);
  }, 60_000);
});

describe("transferTarget: whom a leaving leader hands leadership to", () => {
  const st = (match: Record<string, number>, commitIndex = 10, learners: string[] = []) => ({
    conf: { voters: Object.keys(match).filter((id) => !learners.includes(id)), learners },
    commitIndex,
    progress: Object.fromEntries(Object.entries(match).map(([id, m]) => [id, { match: m }])),
  });
  const all = () => true;
  it.each([
    ["the most caught-up reachable voter", st({ n1: 10, n2: 9, n3: 12, n4: 11 }, 9), all, "n3"],
    [
      "not an unreachable one, however caught up",
      st({ n1: 12, n2: 12, n3: 12 }),
      (id: string) => id !== "n2",
      "n3",
    ],
    ["ties broken by id", st({ n1: 12, n2: 12, n3: 12 }), all, "n2"],
    ["none that lacks committed entries", st({ n1: 12, n2: 9, n3: 8 }), all, undefined],
    ["none but voters", st({ n1: 12, n2: 12, n3: 12 }, 10, ["n2", "n3"]), all, undefined],
    ["none when alone", st({ n1: 12 }), all, undefined],
  ] as const)("%s", (_what, status, reachable, want) => {
    expect(transferTarget(status, "n1", reachable)).toBe(want);
  });
});
