import { describe, expect, it } from "vitest";
import { persistBatch, RaftNode, type Role } from "./core";
import { MemoryLogStore } from "./log-store";
import type { Message } from "./messages";
import type { RaftTunablesInput } from "./options";
import type { Random } from "./random";
import { emptyStoredState } from "./storage-types";

const ELECTION = 10;

/** A fixed "random" source: every node's timeout is electionTicks + k, so timers that start together fire together. */
function fixedTimeouts(k: number): Random {
  return { next: () => 0, int: (n) => Math.min(k, n - 1) };
}

/**
 * A few nodes driven by hand: a driver that persists instantly, a network that delivers in the order
 * messages were sent unless a test picks one out, and no randomness. Records every role each node
 * passes through.
 */
class Hand {
  readonly nodes = new Map<string, RaftNode>();
  readonly stores = new Map<string, MemoryLogStore>();
  readonly inflight: Message[] = [];
  readonly roles = new Map<string, Role[]>();
  readonly down = new Set<string>();
  /** Messages for which this returns true are lost. */
  cut: (m: Message) => boolean = () => false;

  constructor(tunables: RaftTunablesInput = {}, timeoutOffset = 0, ids = ["a", "b", "c"]) {
    for (const id of ids) {
      const node = new RaftNode({
        id,
        storage: emptyStoredState(),
        bootstrap: ids,
        random: fixedTimeouts(timeoutOffset),
        electionTicks: ELECTION,
        ...tunables,
      });
      this.nodes.set(id, node);
      this.stores.set(id, new MemoryLogStore());
      this.roles.set(id, ["follower"]);
    }
    this.collect();
  }

  node(id: string): RaftNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Runs every live node's Readies to completion; their messages join the in-flight queue. */
  collect(): void {
    for (const [id, n] of this.nodes) {
      if (this.down.has(id)) continue;
      for (let rd = n.ready(); rd; rd = n.ready()) {
        const seen = this.roles.get(id) ?? [];
        if (rd.softState && rd.softState.role !== seen.at(-1)) seen.push(rd.softState.role);
        this.stores.get(id)?.save(persistBatch(rd));
        this.inflight.push(...rd.messages, ...rd.messagesAfterPersist);
        n.advance(rd);
      }
    }
  }

  /** Delivers the first in-flight message matching `pred` (then collects); false if there is none. */
  deliver(pred: (m: Message) => boolean = () => true): boolean {
    const i = this.inflight.findIndex(pred);
    if (i < 0) return false;
    const [m] = this.inflight.splice(i, 1);
    if (m && !this.down.has(m.to) && !this.cut(m)) this.node(m.to).step(m);
    this.collect();
    return true;
  }

  /** Delivers in send order until nothing is in flight. */
  settle(): void {
    for (let i = 0; i < 10_000 && this.deliver(); i++) {}
  }

  /** One tick on each of `ids`, in that order, before any message moves. */
  tick(ids: string[]): void {
    for (const id of ids) this.node(id).tick();
    this.collect();
  }

  leader(): string | undefined {
    return [...this.nodes].find(([id, n]) => !this.down.has(id) && n.role === "leader")?.[0];
  }

  /** Kills a node: it takes no further part and what it had in flight is lost. */
  crash(id: string): void {
    this.down.add(id);
    this.inflight.splice(0, this.inflight.length, ...this.inflight.filter((m) => m.from !== id));
  }

  /** Elects `id` (term 2) and commits its no-op everywhere. */
  elect(id: string): void {
    this.node(id).campaign();
    this.collect();
    this.settle();
    this.tick([id]);
    this.settle();
  }
}

/** Ticks the survivors in lockstep, settling after each tick, until one leads; returns the ticks taken. */
function lockstepUntilLeader(t: Hand, ids: string[], max = 4 * ELECTION): number {
  for (let i = 1; i <= max; i++) {
    t.tick(ids);
    t.settle();
    if (t.leader()) return i;
  }
  return Number.POSITIVE_INFINITY;
}

describe("election tie-break between pre-candidates", () => {
  for (const order of [
    ["a", "b"],
    ["b", "a"],
  ]) {
    it(`two survivors whose timers fire in the same tick elect the higher-ranked one in that tick (${order.join(" then ")})`, () => {
      const t = new Hand();
      t.elect("c");
      expect(t.leader()).toBe("c");
      t.crash("c");
      // No randomization at all: without the tie-break both would stand in every round, forever.
      expect(lockstepUntilLeader(t, order)).toBe(ELECTION);
      expect(t.leader()).toBe("b");
      expect(t.node("b").term).toBe(3);
      expect(t.node("a").term).toBe(3);
      expect(t.node("a").leader).toBe("b");
      // One round: a yielded during the pre-vote and never stood in a real election.
      expect(t.roles.get("a")).toEqual(["follower", "preCandidate", "follower"]);
      expect(t.stores.get("a")?.load().hardState).toMatchObject({ term: 3, vote: "b" });
    });
  }

  it("five nodes: four survivors timing out together elect the highest-ranked in one round", () => {
    const t = new Hand({}, 0, ["a", "b", "c", "d", "e"]);
    t.elect("e");
    t.crash("e");
    expect(lockstepUntilLeader(t, ["a", "b", "c", "d"])).toBe(ELECTION);
    expect(t.leader()).toBe("d");
    for (const id of ["a", "b", "c"]) expect(t.roles.get(id)).not.toContain("candidate");
    expect(t.node("d").term).toBe(3);
  });

  it("ranks the more up-to-date log above the node id", () => {
    const t = new Hand();
    t.elect("c");
    // An entry that reaches a but not b: a's log is longer, though b has the higher id.
    t.cut = (m) => m.from === "c" && m.to === "b";
    t.node("c").propose("x");
    t.collect();
    t.settle();
    expect(t.node("a").lastIndex).toBeGreaterThan(t.node("b").lastIndex);
    t.crash("c");
    t.cut = () => false;
    for (let i = 0; i < ELECTION; i++) t.tick(["a", "b"]);
    expect(t.node("b").role).toBe("preCandidate");
    // b yields as soon as it sees a's pre-vote, without waiting for a's rejection of its own.
    t.deliver((m) => m.type === "preVote" && m.from === "a" && m.to === "b");
    expect(t.node("b").role).toBe("follower");
    t.settle();
    expect(t.leader()).toBe("a");
    expect(t.roles.get("b")).toEqual(["follower", "preCandidate", "follower"]);
  });

  it("the pre-candidate that yields keeps its term and vote, then grants the real vote despite its old leader", () => {
    const t = new Hand();
    t.elect("c");
    t.crash("c");
    for (let i = 0; i < ELECTION; i++) t.tick(["a", "b"]);
    expect(t.node("a").role).toBe("preCandidate");
    expect(t.node("b").role).toBe("preCandidate");
    // a hears b's pre-vote first: it grants it and stands down, leaving no trace in its hard state.
    expect(t.deliver((m) => m.type === "preVote" && m.from === "b" && m.to === "a")).toBe(true);
    expect(t.node("a").role).toBe("follower");
    expect(t.node("a").term).toBe(2);
    expect(t.node("a").leader).toBeNull();
    expect(t.stores.get("a")?.load().hardState).toMatchObject({ term: 2, vote: "c" });
    t.settle();
    expect(t.leader()).toBe("b");
    expect(t.stores.get("a")?.load().hardState).toMatchObject({ term: 3, vote: "b" });
  });

  it("a pre-candidate does not yield to a peer whose log is behind, nor to a non-voter", () => {
    const t = new Hand();
    t.elect("c");
    t.cut = (m) => m.from === "c" && m.to === "b";
    t.node("c").propose("x");
    t.collect();
    t.settle();
    t.crash("c");
    t.cut = () => false;
    for (let i = 0; i < ELECTION; i++) t.tick(["a", "b"]);
    t.deliver((m) => m.type === "preVote" && m.from === "b" && m.to === "a");
    expect(t.node("a").role).toBe("preCandidate");
    expect(t.inflight.find((m) => m.type === "preVoteResp" && m.from === "a")).toMatchObject({
      reject: true,
    });
    const a = t.node("a");
    a.step({ type: "preVote", from: "z", to: "a", term: 3, lastIndex: 99, lastTerm: 9, force: false });
    expect(a.role).toBe("preCandidate");
  });
});

describe("deferring to a higher-ranked pre-vote granted just before timing out", () => {
  /** Kills the leader and brings every survivor just past its lease, `first` one tick ahead. */
  function staggered(ids: string[], first: string): Hand {
    // Timeouts of electionTicks + 1: after electionTicks silent ticks a follower's lease is over
    // but its own timer has not fired yet.
    const t = new Hand({}, 1, ids);
    const leader = ids.at(-1) ?? "";
    t.elect(leader);
    t.crash(leader);
    t.tick([first]);
    const survivors = ids.filter((id) => id !== leader);
    for (let i = 0; i < ELECTION; i++) t.tick(survivors);
    expect(t.node(first).role).toBe("preCandidate");
    return t;
  }

  it("three nodes: a follower that granted the pre-vote and times out does not stand against it", () => {
    const t = staggered(["a", "b", "c"], "b");
    expect(t.deliver((m) => m.type === "preVote" && m.to === "a")).toBe(true);
    t.tick(["a"]);
    expect(t.node("a").role).toBe("follower");
    expect(t.inflight.some((m) => m.from === "a" && m.type === "preVote")).toBe(false);
    // Had a stood, its pre-vote overtaking its grant would let both win the pre-vote and split.
    t.deliver((m) => m.from === "a" && m.type === "preVote");
    t.settle();
    expect(t.leader()).toBe("b");
    expect(t.node("b").term).toBe(3);
    expect(t.roles.get("a")).not.toContain("preCandidate");
  });

  it("five nodes: followers that grant both pre-votes cannot split the real vote", () => {
    const t = staggered(["a", "b", "c", "d", "e"], "d");
    for (const to of ["a", "b", "c"]) t.deliver((m) => m.type === "preVote" && m.from === "d" && m.to === to);
    t.tick(["a"]);
    expect(t.node("a").role).toBe("follower");
    // Had a stood too, b and c would grant both pre-votes, and the real votes could split 2-2.
    while (t.deliver((m) => m.type !== "vote")) {}
    t.deliver((m) => m.type === "vote" && m.from === "d" && m.to === "b");
    t.deliver((m) => m.type === "vote" && m.from === "a" && m.to === "c");
    t.settle();
    expect(t.leader()).toBe("d");
    expect(t.node("d").term).toBe(3);
  });

  it("does not defer to a pre-vote granted longer ago than a tick", () => {
    const t = new Hand({}, 3);
    t.elect("c");
    t.crash("c");
    // b's pre-vote reaches a with three ticks to go on a's timer; b then goes quiet.
    for (let i = 0; i < ELECTION; i++) t.tick(["a"]);
    t.node("a").step({
      type: "preVote",
      from: "b",
      to: "a",
      term: 3,
      lastIndex: t.node("b").lastIndex,
      lastTerm: 2,
      force: false,
    });
    t.collect();
    expect(t.inflight).toContainEqual(
      expect.objectContaining({ type: "preVoteResp", from: "a", reject: false }),
    );
    t.inflight.length = 0;
    t.tick(["a", "a"]);
    expect(t.node("a").role).toBe("follower");
    t.tick(["a"]);
    expect(t.node("a").role).toBe("preCandidate");
  });
});
