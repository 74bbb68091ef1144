import { afterEach, describe, expect, it } from "vitest";
import { putJob } from "../../test/helpers/builders";
import { FakeClock } from "../../test/helpers/fake-clock";
import { type OneVoter, openOneVoter } from "../../test/helpers/one-voter";
import { type GroupNode, RaftGroup } from "../../test/helpers/raft-group";
import { tempDir } from "../../test/helpers/tmp";
import type { ResultOf } from "../fsm/commands";
import type { Message } from "../raft/messages";
import { getStoredJob } from "../store/job-queries";
import type { EntryOrigin } from "./consensus";
import type { ContractDeps, ContractMember } from "./consensus.contract";
import { runConsensusContract } from "./consensus.contract";

const dirs: { cleanup: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup();
});

function dir(): string {
  const d = tempDir("dkron-consensus-");
  dirs.push(d);
  return d.path;
}

const asMember = (id: string, n: Pick<OneVoter, "raft" | "state">): ContractMember => ({
  id,
  consensus: n.raft,
  state: n.state,
});

runConsensusContract("RaftConsensus, one voter on SQLite files", { replicas: false }, async (deps) => {
  const clock = new FakeClock();
  const opened: OneVoter[] = [];
  const opts = (id: string) => ({
    id,
    logger: deps.logger,
    attach: (n: Pick<OneVoter, "raft" | "state">) => deps.beforeStart(asMember(id, n)),
  });
  const n = await openOneVoter(dir(), clock, undefined, opts("n1"));
  opened.push(n);
  const self = asMember("n1", n);
  return {
    members: () => [self],
    leader: () => self,
    notLeading: async () => {
      // A lone voter that started but has not been elected: its clock never reaches the election timeout.
      const f = await openOneVoter(dir(), new FakeClock(), undefined, { ...opts("n2"), elect: false });
      opened.push(f);
      return asMember("n2", f);
    },
    until: async (cond, what) => {
      for (let ms = 0; ms <= 10_000; ms += 10) {
        for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
        if (cond()) return;
        clock.advance(10);
      }
      throw new Error(`timed out waiting for ${what}`);
    },
    // A lone voter loses leadership only by stopping.
    depose: () => n.raft.stop(),
    close: async () => {
      for (const o of opened.splice(0)) await o.close();
    },
  };
});

/** Three RaftConsensus nodes on SQLite files in one process, as the contract drives a group. */
async function threeNodes(deps: ContractDeps) {
  const member = (n: GroupNode) => asMember(n.id, n);
  const g = new RaftGroup(["n1", "n2", "n3"], dir(), {
    logger: deps.logger,
    beforeStart: (n) => deps.beforeStart(member(n)),
  });
  await g.start();
  const leader = () => {
    const l = g.leader();
    if (!l) throw new Error("no node leads");
    return l;
  };
  return {
    members: () => [...g.nodes.values()].map(member),
    leader: () => member(leader()),
    notLeading: async () => member([...g.nodes.values()].find((n) => !n.raft.isLeader())!),
    until: (cond: () => boolean, what: string) => g.until(cond, what),
    depose: async () => {
      // Cut off, the leader steps down after an election timeout without a quorum (check-quorum),
      // and the two others elect one of them.
      const old = leader();
      g.isolate(old.id);
      await g.until(() => !old.raft.isLeader() && g.leader() !== undefined, "another leader");
      g.heal();
      const next = leader();
      await g.until(() => g.allFollow(next.id), "every node to follow the new leader");
    },
    transfer: async (to: ContractMember) => {
      leader().raft.transferLeadership(to.id);
      await g.until(() => g.node(to.id).raft.isLeader() && g.allFollow(to.id), `${to.id} to lead`);
    },
    close: () => g.close(),
  };
}

runConsensusContract(
  "RaftConsensus, the leader of three nodes in one process",
  { replicas: true },
  threeNodes,
);

describe("RaftConsensus origins across leaders and restarts", () => {
  const put = (name: string) => putJob({ name });
  let g: RaftGroup | undefined;
  afterEach(async () => {
    await g?.close();
    g = undefined;
  });

  /** A started three-node group and, per node, every applied entry its listener saw as [job, origin]. */
  async function recordingGroup() {
    const seen = new Map<string, [string, EntryOrigin][]>();
    const group = new RaftGroup(["n1", "n2", "n3"], dir(), {
      beforeStart: (n) => {
        const mine: [string, EntryOrigin][] = [];
        seen.set(n.id, mine);
        n.raft.onApplied((e) =>
          mine.push([e.cmd.type === "job.put" ? e.cmd.job.name : e.cmd.type, e.origin]),
        );
      },
    });
    g = group;
    await group.start();
    return { group, seen };
  }

  it("a write whose caller gave up when leadership moved is replicated on the leader that commits it and on its proposer", async () => {
    const { group, seen } = await recordingGroup();
    const n1 = group.node("n1");
    const n2 = group.node("n2");
    // n1 reaches only n2, and hears nobody: its entry gets to n2, the acknowledgement never back.
    group.cut((m) => m.to === "n1" || (m.from === "n1" && m.to === "n3"));
    const before = n2.raft.status().lastLogIndex;
    const outcome = n1.raft.propose(put("x")).then(
      () => "committed",
      (e: unknown) => e,
    );
    await group.until(() => n2.raft.status().lastLogIndex > before, "n2 to hold the entry");
    // n1 steps down (no quorum); n2, whose log is ahead of n3's, wins and commits the entry.
    await group.until(
      () => n2.raft.isLeader() && getStoredJob(n2.state, "x") !== undefined,
      "n2 to commit x",
    );
    expect(await outcome).toMatchObject({ code: "TIMEOUT", details: { outcome: "unknown" } });
    group.heal();
    await group.until(
      () => [...group.nodes.values()].every((n) => getStoredJob(n.state, "x") !== undefined),
      "every node to apply x",
    );
    for (const id of ["n1", "n2", "n3"]) expect(seen.get(id)).toEqual([["x", "replicated"]]);
  });

  it("a commit and a lost leadership in one drain: the proposer acts on its commit before the leadership listeners hear of the loss", async () => {
    const { group } = await recordingGroup();
    const n1 = group.node("n1");
    const n2 = group.node("n2");
    const held: Message[] = [];
    group.cut((m) => {
      held.push(m);
      return true;
    });
    const order: string[] = [];
    n1.raft.onLeadership((leader) => order.push(leader ? "gained" : "lost"));
    const outcome = n1.raft.propose(put("x")).then((r) => order.push(`committed ${r.ok}`));
    await group.until(() => held.some((m) => m.to === "n2" && m.type === "app"), "n1 to send x");
    n2.raft.receive(held.splice(0).filter((m) => m.to === "n2"));
    await group.until(() => held.some((m) => m.to === "n1" && m.type === "appResp"), "n2 to acknowledge x");
    const ack = held.filter((m) => m.to === "n1" && m.type === "appResp");
    // One delivery: n2's acknowledgement commits x, and a heartbeat of a newer term (a leader n1 has
    // not heard of yet) deposes n1, so both land in the same Ready.
    const term = n1.raft.status().term;
    n1.raft.receive([
      ...ack,
      { type: "heartbeat", from: "n3", to: "n1", term: term + 1, commit: 0, readSeq: 0 },
    ]);
    await outcome;
    await group.settle();
    expect(n1.raft.isLeader()).toBe(false);
    expect(order).toEqual(["committed true", "lost"]);
  });

  it("a write left uncommitted by an earlier run of the leader answers no propose of its next run", async () => {
    const { group, seen } = await recordingGroup();
    // The leader writes x to its own log only, then stops (a crash or a restart) with x uncommitted.
    group.isolate("n1");
    const n1 = group.node("n1");
    const lost = n1.raft.propose(put("x")).catch((e: unknown) => e);
    await group.settle();
    expect(n1.raft.status().lastLogIndex).toBeGreaterThan(n1.raft.status().commitIndex);
    await group.stopNode("n1");
    expect(await lost).toMatchObject({ code: "TIMEOUT" });
    // Nobody reaches anybody for a while, so no follower holds a lease when n1 is back.
    group.cut(() => true);
    await group.run(500);
    // Back, n1 (its log ahead of the others') is elected again and proposes y at once, before its
    // first entry commits and x with it. y's proposal id is x's: the counter restarted with the run.
    let y: Promise<ResultOf<ReturnType<typeof put>>> | undefined;
    const again = await group.open("n1", (n) =>
      n.raft.onLeadership((l) => {
        if (l && !y) y = n.raft.propose(put("y"));
      }),
    );
    group.heal();
    again.raft.campaign();
    await group.until(() => y !== undefined, "n1 to lead again");
    expect(await y).toMatchObject({ ok: true, events: [{ kind: "job.changed", name: "y" }] });
    expect(getStoredJob(again.state, "x")).toBeDefined();
    expect(seen.get("n1")).toEqual([
      ["x", "replicated"],
      ["y", "awaited"],
    ]);
  });
});
