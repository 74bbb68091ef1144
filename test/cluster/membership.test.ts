import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/agent-process";
import { type ClusterNode, getJson, TestCluster } from "../helpers/cluster";
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

const postJob = (via: ClusterNode, name: string) =>
  fetch(`${via.url}/v1/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      name,
      schedule: "@manually",
      executor: "shell",
      executor_config: { command: "true" },
    }),
  });

const dir = tempDir("dkron-membership-");
let cluster: TestCluster | undefined;
let grown: TestCluster | undefined;
afterAll(async () => {
  await cluster?.stop();
  await grown?.stop();
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
    await waitFor(
      "n4 promoted to voter",
      async () => ((await listPeers(leader)).n4 === "voter" ? true : undefined),
      30_000,
    );
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
    await waitFor(
      "n2 a voter",
      async () => ((await listPeers(n1)).n2 === "voter" ? true : undefined),
      30_000,
    );
    const n3 = await c.addNode();
    await waitFor(
      "n3 a voter",
      async () => ((await listPeers(n1)).n3 === "voter" ? true : undefined),
      30_000,
    );
    for (const n of [n2, n3])
      expect((await fetch(`${n.url}/v1/jobs/from-the-start`)).status, `job on ${n.name}`).toBe(200);

    // The node it grew from is no longer a single point of failure.
    await c.kill(n1);
    const next = await c.waitForLeader(15_000, [n2, n3]);
    expect((await postJob(next, "after-n1")).status).toBe(201);
    expect((await fetch(`${next.url}/v1/jobs/from-the-start`)).status).toBe(200);
  }, 120_000);
});
