import { describe, expect, it } from "vitest";
import { RaftCluster, type SimNode } from "../helpers/raft-cluster";

// Figure 8 of the Raft paper, driven step by step: an entry from an old term that reaches a majority
// is still not committed, because a node holding a conflicting entry from a later term can win an
// election and overwrite it. A leader that counted replicas of old-term entries (the broken commit
// rule) would report it committed here, and the simulator's leader-completeness check would fire
// when the other node takes over.

function cluster(): RaftCluster {
  return new RaftCluster({
    seed: 8,
    voters: 5,
    tunables: { electionTicks: 10, maxEntriesPerMsg: 1, maxInflight: 1 },
    weather: { dropRate: 0, dupRate: 0, minDelay: 1, maxDelay: 3 },
    diskMaxDelay: 0,
  });
}

function leaderAmong(nodes: SimNode[]): SimNode | undefined {
  return nodes.find((n) => n.raft?.role === "leader");
}

describe("Figure 8: an old-term entry on a majority is not committed", () => {
  it("keeps the entry uncommitted, so the later-term leader may overwrite it safely", () => {
    const c = cluster();
    const all = c.ids().map((id) => c.node(id));
    expect(c.runUntilTrue(() => c.leader() !== undefined, 100)).toBe(true);
    c.runTicks(5);
    const l1 = c.leader() as SimNode;
    const [s2, a, b, d] = all.filter((n) => n !== l1) as [SimNode, SimNode, SimNode, SimNode];

    // (a) L1 replicates X to s2 only, then crashes.
    c.net.partition([
      [l1.id, s2.id],
      [a.id, b.id, d.id],
    ]);
    let xAcked = false;
    const cmd = JSON.stringify({ id: "X", op: "put", key: "k", value: "X" });
    expect(c.submitWrite(l1.id, "X", cmd, () => (xAcked = true))).toBe(true);
    const i = l1.raft?.lastIndex ?? 0;
    const tX = l1.raft?.term ?? 0;
    expect(c.runUntilEvent(() => s2.store.covers(i, tX) && l1.store.covers(i, tX), 10)).toBe(true);
    c.crash(l1.id);

    // (b) The other side elects a leader; cut it off before its no-op (also at index i) spreads.
    expect(c.runUntilEvent(() => leaderAmong([a, b, d]) !== undefined, 200)).toBe(true);
    const l5 = leaderAmong([a, b, d]) as SimNode;
    const t5 = l5.raft?.term ?? 0;
    c.net.partition([[l5.id], c.ids().filter((x) => x !== l5.id)]);
    expect(c.runUntilEvent(() => l5.store.covers(i, t5), 5)).toBe(true);
    c.crash(l5.id);
    // Let its in-flight messages die against the partition.
    c.runTicks(5);
    const [s3, s4] = [a, b, d].filter((n) => n !== l5) as [SimNode, SimNode];
    expect(s3.store.covers(i, t5) || s4.store.covers(i, t5)).toBe(false);

    // (c) L1 (or s2) leads again with s3's vote; s3 gets X but never the new leader's no-op.
    c.net.heal();
    c.net.blockOneWay(l1.id, s4.id);
    c.net.blockOneWay(s2.id, s4.id);
    c.restart(l1.id);
    expect(c.runUntilEvent(() => leaderAmong([l1, s2]) !== undefined, 300)).toBe(true);
    const lx = leaderAmong([l1, s2]) as SimNode;
    expect(c.runUntilEvent(() => s3.store.covers(i, tX), 50)).toBe(true);
    c.net.blockOneWay(lx.id, s3.id);
    c.runTicks(3);
    // X is on l1, s2 and s3 — a majority — but it is from an old term: not committed.
    expect(lx.raft?.commitIndex).toBeLessThan(i);

    // (d) The X holders go away; l5 (later term at i) wins with s3 and s4 and overwrites X.
    c.crash(l1.id);
    c.crash(s2.id);
    c.net.heal();
    c.restart(l5.id);
    expect(c.runUntilEvent(() => l5.raft?.role === "leader", 300)).toBe(true);
    c.runTicks(10);
    expect(l5.raft?.termAt(i)).toBe(t5);
    expect(s3.raft?.termAt(i)).toBe(t5);
    expect(xAcked).toBe(false);
  });
});
