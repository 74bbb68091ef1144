import { afterAll, describe, expect, it } from "vitest";
import type { Member } from "../../shared/member";
import { waitFor } from "../helpers/agent-process";
import { getJson, TestCluster } from "../helpers/cluster";
import { tempDir } from "../helpers/tmp";

const dir = tempDir("dkron-members-");
let cluster: TestCluster | undefined;
afterAll(async () => {
  await cluster?.stop();
  dir.cleanup();
});

describe("/v1/members and /v1/leader in a cluster (real processes)", () => {
  it("show each control node's Raft role and indexes, and a dead node as failed", async () => {
    cluster = await TestCluster.start({ size: 3, baseDir: dir.path, profile: "fast" });
    const c = cluster;
    const leader = await c.waitForLeader();
    const follower = c.nodes.find((n) => n !== leader)!;
    const other = c.nodes.find((n) => n !== leader && n !== follower)!;

    // Every stream up: all three control nodes alive, as seen from a follower.
    const seen = await waitFor("three alive control members", async () => {
      const ms = await getJson<Member[]>(`${follower.url}/v1/members`);
      const controls = ms?.filter((m) => m.Tags.server === "true" && m.Tags.raft_suffrage) ?? [];
      return controls.length === 3 && controls.every((m) => m.statusText === "alive") ? controls : undefined;
    });
    const self = seen.find((m) => m.Name === follower.name)!;
    expect(self.Tags.raft_state).toBe("follower");
    expect(self.Tags.raft_suffrage).toBe("voter");
    expect(Number(self.Tags.raft_term)).toBeGreaterThan(0);
    expect(Number(self.Tags.raft_applied_index)).toBeGreaterThan(0);
    expect(seen.find((m) => m.Name === leader.name)!.Tags.raft_state).toBe("leader");

    // /v1/leader from the leader itself carries its term and indexes; the leader adds match indexes.
    const lead = await getJson<Member>(`${leader.url}/v1/leader`);
    expect(lead?.Name).toBe(leader.name);
    expect(lead?.Tags.raft_state).toBe("leader");
    expect(Number(lead?.Tags.raft_commit_index)).toBeGreaterThan(0);
    const fromLeader = await getJson<Member[]>(`${leader.url}/v1/members`);
    expect(Number(fromLeader?.find((m) => m.Name === follower.name)?.Tags.raft_match_index)).toBeGreaterThan(
      0,
    );

    // A SIGKILLed node is reported failed (its stream stops answering), not alive.
    await c.kill(other);
    await waitFor(
      `${other.name} reported failed`,
      async () => {
        const ms = await getJson<Member[]>(`${follower.url}/v1/members`);
        return ms?.find((m) => m.Name === other.name)?.statusText === "failed" ? true : undefined;
      },
      15_000,
    );
  }, 60_000);
});
