import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/agent-process";
import { getJson, TestCluster } from "../helpers/cluster";
import { tempDir } from "../helpers/tmp";

const dir = tempDir("dkron-no-secret-");
let cluster: TestCluster | undefined;
afterAll(async () => {
  await cluster?.stop();
  dir.cleanup();
});

describe("a loopback cluster started without --cluster-secret (real processes)", () => {
  it("elects a leader and replicates writes, and every node warns that Raft RPC is unauthenticated", async () => {
    cluster = await TestCluster.start({ size: 3, baseDir: dir.path, profile: "fast", secret: "" });
    const c = cluster;
    const leader = await c.waitForLeader();
    const job = {
      name: "no-secret",
      schedule: "@manually",
      executor: "shell",
      executor_config: { command: "true" },
    };
    const res = await fetch(`${leader.url}/v1/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(job),
    });
    expect(res.status).toBe(201);
    for (const n of c.nodes) {
      await waitFor(`${n.name} has the job`, async () =>
        (await getJson<{ name: string }>(`${n.url}/v1/jobs/no-secret`))?.name === "no-secret"
          ? true
          : undefined,
      );
      expect(n.log).toContain("NO --cluster-secret: Raft RPC between control nodes is NOT authenticated");
      // A word boundary, not a substring: a port such as 40189 is not a 401.
      expect(n.log).not.toMatch(/\b401\b|unauthorized/i);
    }
  }, 60_000);
});
