import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { TestCluster } from "../helpers/cluster";
import { tempDir } from "../helpers/tmp";

// Tokens on a real three-node cluster (real processes, sockets, SQLite): the first leader's admin
// token, a scoped token made through a follower, and a revocation every node honours at once.

const BIN = fileURLToPath(new URL("../../control/bin/dkron.mjs", import.meta.url));
const run = promisify(execFile);

/** Runs the real `dkron` CLI; resolves with stdout, or rejects with its stderr and exit code. */
async function dkron(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(process.execPath, [BIN, ...args], {
    timeout: 20_000,
    env: { ...process.env, DKRON_TOKEN: "", ...env },
  });
  return stdout;
}

const dir = tempDir("dkron-auth-cluster-");
let cluster: TestCluster | undefined;
afterAll(async () => {
  await cluster?.stop();
  dir.cleanup();
});

const get = (url: string, token?: string) =>
  fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});

describe("API tokens on a three-node cluster (real processes)", () => {
  it("one admin token from the first start; a revoked token fails at once on every node; the CLI drives it", async () => {
    cluster = await TestCluster.start({ size: 3, baseDir: dir.path, auth: true, profile: "fast" });
    const c = cluster;
    const admin = await c.adminToken();
    const leader = await c.waitForLeader();
    // Exactly one node wrote it: the first leader.
    const holders = c.nodes.filter((n) => n.log.includes("created the first admin token (shown once"));
    expect(holders.length).toBe(1);

    for (const n of c.nodes) {
      expect((await get(`${n.url}/v1/jobs`)).status, `no token on ${n.name}`).toBe(401);
      const r = await get(`${n.url}/v1/jobs`, admin);
      expect(r.status, `admin on ${n.name}: ${await r.clone().text()}`).toBe(200);
    }

    // Through a follower, with the CLI picking the token up from the data dir that holds it.
    const follower = c.nodes.find((n) => n !== leader)!;
    const holder = holders[0]!;
    const created = await dkron([
      "token",
      "create",
      "--http-addr",
      follower.url,
      "--data-dir",
      holder.dataDir,
      "--name",
      "viewer",
      "--scopes",
      "read",
    ]);
    const viewer = created.split("\n")[0]!.trim();
    expect(viewer).toMatch(/^dkt\./);
    const id = viewer.split(".")[1]!;
    const listed = await dkron(["token", "list", "--http-addr", follower.url], { DKRON_TOKEN: admin });
    expect(listed).toContain("viewer");
    expect(listed).not.toContain(viewer.split(".")[2]!);

    for (const n of c.nodes) {
      expect((await get(`${n.url}/v1/jobs`, viewer)).status, `viewer reads on ${n.name}`).toBe(200);
      const post = await fetch(`${n.url}/v1/jobs`, {
        method: "POST",
        headers: { authorization: `Bearer ${viewer}`, "content-type": "application/json" },
        body: JSON.stringify({
          name: "nope",
          schedule: "@manually",
          executor: "shell",
          executor_config: { command: "true" },
        }),
      });
      expect(post.status, `viewer writes on ${n.name}`).toBe(403);
    }
    expect((await get(`${leader.url}/v1/jobs/nope`, admin)).status).toBe(404);

    // Revoked through one node, refused by every node on the very next request.
    await dkron(["token", "revoke", id, "--http-addr", c.nodes[2]!.url, "--token", admin]);
    for (const n of c.nodes)
      expect((await get(`${n.url}/v1/jobs`, viewer)).status, `revoked on ${n.name}`).toBe(401);

    // A CLI call without any token says where to find one.
    const noToken = await dkron(["token", "list", "--http-addr", leader.url, "--data-dir", dir.path]).catch(
      (e: { stderr: string; code: number }) => e,
    );
    expect(noToken).toMatchObject({ code: 1 });
    expect((noToken as { stderr: string }).stderr).toMatch(/missing token.*--token/s);
  }, 120_000);
});
