import { describe, expect, it } from "vitest";
import type { RaftTunablesInput } from "../../control/raft/options";
import { type ClusterOptions, RaftCluster, type SimNode } from "../helpers/raft-cluster";

// Hand-driven scenarios for the behaviours the random simulation only hits by chance: each one sets
// up a specific fault and checks the specific reaction (the per-step safety invariants still run).

const ELECTION = 10;

function cluster(
  voters: number,
  tunables: RaftTunablesInput = {},
  extra: Partial<ClusterOptions> = {},
): RaftCluster {
  return new RaftCluster({
    seed: 42,
    voters,
    tunables: { electionTicks: ELECTION, ...tunables },
    weather: { dropRate: 0, dupRate: 0, minDelay: 1, maxDelay: 3 },
    diskMaxDelay: 1,
    ...extra,
  });
}

function stableLeader(c: RaftCluster): SimNode {
  if (!c.runUntilTrue(() => c.leader() !== undefined, 20 * ELECTION)) throw new Error("no leader");
  c.runTicks(3);
  const l = c.leader();
  if (!l) throw new Error("leader lost");
  return l;
}

let seq = 0;
/** Writes key=value through a node and runs until that node applied it; returns whether it did. */
function write(c: RaftCluster, via: string, key: string, value: string, maxTicks = 10 * ELECTION): boolean {
  const id = `w${++seq}`;
  let done = false;
  const cmd = JSON.stringify({ id, op: "put", key, value });
  if (!c.submitWrite(via, id, cmd, () => (done = true))) return false;
  return c.runUntilTrue(() => done, maxTicks);
}

/** A ReadIndex read through a node: the value, or null if it never completed. */
function read(c: RaftCluster, via: string, key: string, maxTicks = 10 * ELECTION): string | undefined | null {
  let out: string | undefined | null = null;
  let done = false;
  if (
    !c.submitRead(via, `r${++seq}`, key, (v) => {
      out = v;
      done = true;
    })
  ) {
    return null;
  }
  c.runUntilTrue(() => done, maxTicks);
  return out;
}

const others = (c: RaftCluster, id: string) => c.ids().filter((x) => x !== id);

describe("Raft scenarios", () => {
  it("elects one leader and replicates a write to every state machine", () => {
    const c = cluster(3);
    const l = stableLeader(c);
    expect(write(c, l.id, "x", "1")).toBe(true);
    c.runTicks(5);
    for (const n of c.nodes.values()) expect(n.sm.get("x")).toBe("1");
  });

  it("a follower forwards proposals to the leader", () => {
    const c = cluster(3);
    const l = stableLeader(c);
    const f = others(c, l.id)[0] ?? "";
    expect(write(c, f, "x", "via-follower")).toBe(true);
    expect(l.sm.get("x")).toBe("via-follower");
  });

  it("check-quorum: a leader cut off from the majority steps down and the majority elects another", () => {
    const c = cluster(5);
    const old = stableLeader(c);
    c.net.partition([[old.id], others(c, old.id)]);
    c.runTicks(3 * ELECTION);
    expect(old.raft?.role).not.toBe("leader");
    const l = c.leader();
    expect(l && l.id !== old.id).toBe(true);
    expect(write(c, l?.id ?? "", "x", "after")).toBe(true);
  });

  it("pre-vote: a partitioned follower rejoins without bumping terms or deposing the leader", () => {
    const c = cluster(3);
    const l = stableLeader(c);
    const term = l.raft?.term;
    const f = others(c, l.id)[0] ?? "";
    c.net.partition([[f], others(c, f)]);
    c.runTicks(10 * ELECTION);
    expect(c.node(f).raft?.term).toBe(term);
    c.net.heal();
    c.runTicks(5 * ELECTION);
    expect(c.leader()?.id).toBe(l.id);
    expect(l.raft?.term).toBe(term);
  });

  it("one-way partition: a follower that stops hearing the leader cannot disrupt it", () => {
    const c = cluster(3);
    const l = stableLeader(c);
    const term = l.raft?.term;
    const f = others(c, l.id)[0] ?? "";
    c.net.blockOneWay(l.id, f);
    c.runTicks(10 * ELECTION);
    // The other follower still hears the leader, so its lease makes it ignore f's campaign.
    expect(c.leader()?.id).toBe(l.id);
    expect(l.raft?.term).toBe(term);
    expect(write(c, l.id, "x", "still-leading")).toBe(true);
  });

  it("one-way partition: a leader that hears no acknowledgements steps down", () => {
    const c = cluster(3);
    const old = stableLeader(c);
    for (const f of others(c, old.id)) c.net.blockOneWay(f, old.id);
    c.runTicks(6 * ELECTION);
    expect(old.raft?.role).not.toBe("leader");
    const l = c.leader();
    expect(l && l.id !== old.id).toBe(true);
  });

  it("leadership transfer hands over to a caught-up voter with TimeoutNow", () => {
    const c = cluster(3);
    const l = stableLeader(c);
    const target = others(c, l.id)[1] ?? "";
    const term = l.raft?.term ?? 0;
    expect(l.raft?.transferLeadership(target)).toBe(true);
    c.pump(l);
    expect(c.runUntilTrue(() => c.leader()?.id === target, ELECTION)).toBe(true);
    expect(c.node(target).raft?.term).toBe(term + 1);
    // Proposals resume under the new leader.
    expect(write(c, target, "x", "moved")).toBe(true);
  });

  it("a lagging follower catches up through a chunked InstallSnapshot", () => {
    const c = cluster(3, {
      snapshotThreshold: 10,
      trailingEntries: 0,
      snapshotChunkSize: 32,
      maxInflight: 2,
    });
    const l = stableLeader(c);
    const f = others(c, l.id)[0] ?? "";
    c.crash(f);
    for (let i = 0; i < 60; i++) expect(write(c, l.id, `k${i % 7}`, `v${i}`)).toBe(true);
    expect(l.raft?.status().snapshotIndex).toBeGreaterThan(0);
    c.restart(f);
    const fn = c.node(f);
    expect(c.runUntilTrue(() => fn.sm.applied === l.sm.applied, 20 * ELECTION)).toBe(true);
    expect(fn.raft?.status().snapshotIndex).toBeGreaterThan(0);
    expect(fn.sm.fingerprint()).toBe(l.sm.fingerprint());
    // And it restarts from the installed snapshot on its own disk.
    c.crash(f);
    c.restart(f);
    c.runTicks(5);
    expect(fn.sm.fingerprint()).toBe(l.sm.fingerprint());
  });

  it("membership: a new node joins as a learner, is promoted once caught up, then the leader removes itself", () => {
    const c = cluster(3, {}, { spares: 1 });
    const l = stableLeader(c);
    for (let i = 0; i < 20; i++) write(c, l.id, "k", `v${i}`);
    expect(l.raft?.proposeConfChange({ type: "addVoter", node: "n4" })).toMatchObject({ ok: true });
    c.pump(l);
    c.runTicks(2);
    expect(l.raft?.conf.learners).toContain("n4");
    expect(c.runUntilTrue(() => l.raft?.conf.voters.includes("n4") === true, 10 * ELECTION)).toBe(true);
    expect(c.node("n4").sm.get("k")).toBe("v19");
    // A second change waits for the first to apply; then the leader removes itself and steps down.
    c.runTicks(5);
    expect(l.raft?.proposeConfChange({ type: "remove", node: l.id })).toMatchObject({ ok: true });
    c.pump(l);
    expect(c.runUntilTrue(() => l.raft?.role !== "leader", 5 * ELECTION)).toBe(true);
    const next = stableLeader(c);
    expect(next.id).not.toBe(l.id);
    expect(next.raft?.conf.voters).toHaveLength(3);
    expect(write(c, next.id, "k", "after-removal")).toBe(true);
  });

  it("refuses a second membership change while one is pending", () => {
    const c = cluster(3, {}, { spares: 2 });
    const l = stableLeader(c);
    expect(l.raft?.proposeConfChange({ type: "addLearner", node: "n4" })).toMatchObject({ ok: true });
    expect(l.raft?.proposeConfChange({ type: "addLearner", node: "n5" })).toEqual({
      ok: false,
      reason: "conf-change-pending",
    });
  });

  it("ReadIndex: a follower reads the latest acknowledged write; an isolated old leader serves no read", () => {
    const c = cluster(5);
    const l = stableLeader(c);
    expect(write(c, l.id, "x", "1")).toBe(true);
    const f = others(c, l.id)[0] ?? "";
    expect(read(c, f, "x")).toBe("1");
    c.net.partition([[l.id], others(c, l.id)]);
    let stale: string | undefined | null = null;
    c.submitRead(l.id, "stale-read", "x", (v) => {
      stale = v;
    });
    c.runTicks(3 * ELECTION);
    const nl = c.leader();
    expect(nl && nl.id !== l.id).toBe(true);
    expect(write(c, nl?.id ?? "", "x", "2")).toBe(true);
    c.net.heal();
    c.runTicks(3 * ELECTION);
    expect(stale).toBeNull();
    expect(read(c, l.id, "x")).toBe("2");
  });

  it("a restarted cluster keeps every acknowledged write", () => {
    const c = cluster(3);
    const l = stableLeader(c);
    for (let i = 0; i < 10; i++) expect(write(c, l.id, `k${i}`, `v${i}`)).toBe(true);
    for (const id of c.ids()) c.crash(id);
    for (const id of c.ids()) c.restart(id);
    const nl = stableLeader(c);
    expect(write(c, nl.id, "after", "restart")).toBe(true);
    for (let i = 0; i < 10; i++) expect(read(c, nl.id, `k${i}`)).toBe(`v${i}`);
  });
});
