import { afterEach, describe, expect, it } from "vitest";
import { putJob } from "../../test/helpers/builders";
import { RaftGroup } from "../../test/helpers/raft-group";
import { tempDir } from "../../test/helpers/tmp";
import type { Message } from "../raft/messages";
import { getStoredJob } from "../store/job-queries";

/** What each node's status counts of its fsynced log writes. */
function syncs(g: RaftGroup): Map<string, { syncs: number; entries: number }> {
  return new Map(
    [...g.nodes.values()].map((n) => {
      const s = n.raft.status();
      return [n.id, { syncs: s.logSyncs, entries: s.logSyncedEntries }];
    }),
  );
}

describe("RaftConsensus group commit", () => {
  let g: RaftGroup | undefined;
  const dirs: { cleanup: () => void }[] = [];
  afterEach(async () => {
    await g?.close();
    g = undefined;
    for (const d of dirs.splice(0)) d.cleanup();
  });

  async function group(): Promise<RaftGroup> {
    const d = tempDir("dkron-group-commit-");
    dirs.push(d);
    g = new RaftGroup(["n1", "n2", "n3"], d.path);
    await g.start();
    await g.settle();
    return g;
  }

  it("64 proposals of one turn are one fsynced write on the leader and one on each follower, and all commit", async () => {
    const g = await group();
    const leader = g.leader()!;
    const before = syncs(g);
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) => leader.raft.propose(putJob({ name: `job-${i}` }))),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    await g.until(
      () => [...g!.nodes.values()].every((n) => getStoredJob(n.state, "job-63") !== undefined),
      "every node to apply the batch",
    );
    const after = syncs(g);
    for (const [id, b] of before) {
      // One fsync carried all 64 entries on every node; the commit index that followed them is not
      // a write of its own (it rides on the next one).
      expect({ id, ...delta(b, after.get(id)!) }).toEqual({ id, syncs: 1, entries: 64 });
    }
  });

  it("the leader's commit index and new entries of one turn reach a follower as one append", async () => {
    const g = await group();
    const leader = g.leader()!;
    const first = leader.raft.propose(putJob({ name: "a" }));
    const indexOfA = leader.raft.status().lastLogIndex;
    // Hold the followers' acknowledgements of "a" until "b" is proposed in the same turn as they
    // arrive: then the leader's next append carries b and the commit of a together.
    const held: Message[] = [];
    g.cut((m) => {
      if (m.to === leader.id && m.type === "appResp") {
        held.push(m);
        return true;
      }
      return false;
    });
    await g.until(() => held.length === 2, "both followers to acknowledge a");
    g.heal();
    const sent: Message[] = [];
    const toFollowers = (m: Message) => {
      if (m.from === leader.id && m.type === "app") sent.push(m);
      return false;
    };
    g.cut(toFollowers);
    leader.raft.receive(held);
    const second = leader.raft.propose(putJob({ name: "b" }));
    expect((await first).ok).toBe(true);
    expect((await second).ok).toBe(true);
    // Each follower's first append after the acks carries b and already names a as committed: no
    // empty commit notice went ahead of it.
    const followers = [...g.nodes.keys()].filter((id) => id !== leader.id);
    for (const to of followers) {
      const next = sent.find((m) => m.to === to);
      expect(next).toMatchObject({ type: "app", entries: [{ index: indexOfA + 1 }] });
      expect(next?.type === "app" && next.commit).toBeGreaterThanOrEqual(indexOfA);
      const noticesOfA = sent.filter(
        (m) => m.to === to && m.type === "app" && m.entries.length === 0 && m.commit === indexOfA,
      );
      expect(noticesOfA).toEqual([]);
    }
  });
});

function delta(a: { syncs: number; entries: number }, b: { syncs: number; entries: number }) {
  return { syncs: b.syncs - a.syncs, entries: b.entries - a.entries };
}
