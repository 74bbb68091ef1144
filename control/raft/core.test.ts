import { describe, expect, it } from "vitest";
import { persistBatch, RaftNode, type Ready } from "./core";
import { MemoryLogStore } from "./log-store";
import { type Message, parseMessage } from "./messages";
import { resolveTunables } from "./options";
import { seededRandom } from "./random";
import { emptyStoredState } from "./storage-types";

function fresh(id: string, peers: string[], tunables = {}): RaftNode {
  return new RaftNode({
    id,
    storage: emptyStoredState(),
    bootstrap: peers,
    random: seededRandom(7),
    ...tunables,
  });
}

/** Drains one Ready the way a driver would, into a store; returns it for inspection. */
function drain(n: RaftNode, store = new MemoryLogStore()): Ready | null {
  const rd = n.ready();
  if (!rd) return null;
  store.save(persistBatch(rd));
  n.advance(rd);
  return rd;
}

function tickUntil(n: RaftNode, store: MemoryLogStore, pred: () => boolean, max = 100): void {
  for (let i = 0; i < max && !pred(); i++) {
    n.tick();
    while (drain(n, store)) {}
  }
}

describe("RaftNode", () => {
  it("bootstraps every founder with the same committed first entry", () => {
    const a = fresh("a", ["c", "a", "b"]);
    const b = fresh("b", ["a", "b", "c"]);
    const ra = a.ready();
    const rb = b.ready();
    expect(ra?.entries).toEqual(rb?.entries);
    expect(ra?.entries[0]).toMatchObject({ index: 1, term: 1, type: "conf" });
    expect(ra?.hardState).toEqual({ term: 1, vote: null, commit: 1 });
    expect(a.conf.voters).toEqual(["a", "b", "c"]);
  });

  it("a single node elects itself and commits only what it has persisted", () => {
    const n = fresh("a", ["a"]);
    const store = new MemoryLogStore();
    tickUntil(n, store, () => n.role === "leader");
    expect(n.role).toBe("leader");
    const res = n.propose("cmd");
    expect(res).toMatchObject({ ok: true });
    const index = res.ok ? res.index : null;
    const rd = n.ready();
    expect(rd?.entries.map((e) => e.data)).toContain("cmd");
    // Not committed while the leader's own write is still in flight.
    expect(n.commitIndex).toBeLessThan(index ?? 0);
    if (rd) n.advance(rd);
    expect(n.commitIndex).toBe(index);
    const next = n.ready();
    expect(next?.committedEntries.map((e) => e.data)).toContain("cmd");
  });

  it("holds votes and acknowledgements until the Ready that changed the hard state is durable", () => {
    const a = fresh("a", ["a", "b", "c"], { preVote: false });
    const store = new MemoryLogStore();
    drain(a, store);
    let rd: Ready | null = null;
    for (let i = 0; i < 50 && !rd?.hardState?.vote; i++) {
      a.tick();
      rd = a.ready();
      if (rd && !rd.hardState?.vote) {
        store.save(persistBatch(rd));
        a.advance(rd);
        rd = null;
      }
    }
    expect(rd?.hardState).toMatchObject({ term: 2, vote: "a" });
    expect(rd?.messages).toEqual([]);
    expect(rd?.messagesAfterPersist.map((m) => m.type)).toEqual(["vote", "vote"]);
  });

  it("refuses a second ready() before advance()", () => {
    const n = fresh("a", ["a"]);
    expect(n.ready()).not.toBeNull();
    expect(() => n.ready()).toThrow(/advance/);
  });

  it("a leader sends its appends before its own write is durable (thesis §10.2.1)", () => {
    const nodes = new Map(["a", "b", "c"].map((id) => [id, fresh(id, ["a", "b", "c"])]));
    const stores = new Map([...nodes.keys()].map((id) => [id, new MemoryLogStore()]));
    const pending: Message[] = [];
    const pump = () => {
      for (let i = 0; i < 20; i++) {
        for (const [id, n] of nodes) {
          const rd = n.ready();
          if (!rd) continue;
          pending.push(...rd.messages);
          stores.get(id)?.save(persistBatch(rd));
          pending.push(...rd.messagesAfterPersist);
          n.advance(rd);
        }
        for (const m of pending.splice(0)) nodes.get(m.to)?.step(m);
      }
    };
    const a = nodes.get("a") as RaftNode;
    pump();
    a.campaign();
    pump();
    expect(a.role).toBe("leader");
    a.propose("x");
    const rd = a.ready();
    expect(rd?.messages.some((m) => m.type === "app" && m.entries.some((e) => e.data === "x"))).toBe(true);
    expect(rd?.messagesAfterPersist).toEqual([]);
    if (rd) a.advance(rd);
    pump();
    expect(nodes.get("b")?.commitIndex).toBe(a.commitIndex);
  });

  it("restarts from storage with the membership and indexes it had", () => {
    const store = new MemoryLogStore();
    const n = fresh("a", ["a"]);
    for (let i = 0; i < 30; i++) {
      n.tick();
      drain(n, store);
    }
    n.propose("one");
    while (drain(n, store)) {}
    const again = new RaftNode({
      id: "a",
      storage: store.load(),
      applied: n.appliedIndex,
      random: seededRandom(1),
    });
    expect(again.conf.voters).toEqual(["a"]);
    expect(again.commitIndex).toBe(n.commitIndex);
    expect(again.lastIndex).toBe(n.lastIndex);
    expect(again.ready()?.committedEntries ?? []).toEqual([]);
  });

  it("asks for a snapshot past the threshold and compacts behind it", () => {
    const store = new MemoryLogStore();
    const n = fresh("a", ["a"], { snapshotThreshold: 5, trailingEntries: 2 });
    tickUntil(n, store, () => n.role === "leader");
    let wanted = false;
    for (let i = 0; i < 10; i++) {
      n.propose(`c${i}`);
      for (let rd = n.ready(); rd; rd = n.ready()) {
        store.save(persistBatch(rd));
        n.advance(rd);
        if (rd.wantSnapshot) {
          wanted = true;
          expect(n.compact(n.appliedIndex, `state@${n.appliedIndex}`)).toBe(true);
        }
      }
    }
    expect(wanted).toBe(true);
    const st = store.load();
    expect(st.snapshot?.data).toMatch(/^state@/);
    expect(st.logStart.index).toBe((st.snapshot?.meta.index ?? 0) - 2);
    expect(st.snapshot?.meta.conf.voters).toEqual(["a"]);
  });

  it("asks for a snapshot by the log's size too, and keeps only as many trailing characters as allowed", () => {
    const store = new MemoryLogStore();
    // Entries of 1,000 characters: 64 of them fill the 64,000-character budget long before the count.
    const n = fresh("a", ["a"], {
      snapshotThreshold: 100_000,
      snapshotThresholdChars: 64_000,
      trailingEntries: 1024,
      trailingChars: 3_500,
    });
    tickUntil(n, store, () => n.role === "leader");
    const asked: number[] = [];
    for (let i = 0; i < 200; i++) {
      n.propose("x".repeat(1000));
      for (let rd = n.ready(); rd; rd = n.ready()) {
        store.save(persistBatch(rd));
        n.advance(rd);
        if (rd.wantSnapshot) {
          asked.push(n.appliedIndex);
          expect(n.compact(n.appliedIndex, `state@${n.appliedIndex}`)).toBe(true);
        }
      }
    }
    // About every 61 entries (64 held minus the 3 trailing kept), never on every Ready.
    expect(asked.length).toBeGreaterThanOrEqual(3);
    expect(asked.length).toBeLessThanOrEqual(4);
    const st = store.load();
    // The entry at the snapshot and two before it: the fourth would pass 3,500 characters.
    expect(st.logStart.index).toBe((st.snapshot?.meta.index ?? 0) - 3);
  });

  it("rejects membership changes from followers and invalid ones from leaders", () => {
    const n = fresh("a", ["a"]);
    expect(n.proposeConfChange({ type: "addVoter", node: "b" })).toEqual({ ok: false, reason: "not-leader" });
    const store = new MemoryLogStore();
    tickUntil(n, store, () => n.role === "leader" && n.appliedIndex >= 2);
    expect(n.proposeConfChange({ type: "remove", node: "a" })).toEqual({
      ok: false,
      reason: "invalid-conf-change",
    });
    expect(n.proposeConfChange({ type: "addLearner", node: "b" })).toMatchObject({ ok: true });
  });
});

describe("messages and options", () => {
  it("parses a well-formed message and rejects unknown fields or types", () => {
    const m = { type: "heartbeat", from: "a", to: "b", term: 3, commit: 2, readSeq: 0 };
    expect(parseMessage(JSON.parse(JSON.stringify(m)))).toEqual(m);
    expect(() => parseMessage({ ...m, extra: 1 })).toThrow();
    expect(() => parseMessage({ ...m, type: "nope" })).toThrow();
    expect(() => parseMessage({ ...m, term: -1 })).toThrow();
  });

  it("fills defaults and refuses a heartbeat that is not well inside the election timeout", () => {
    expect(resolveTunables()).toMatchObject({
      electionTicks: 10,
      heartbeatTicks: 1,
      preVote: true,
      checkQuorum: true,
    });
    expect(() => resolveTunables({ electionTicks: 4, heartbeatTicks: 3 })).toThrow(/heartbeatTicks/);
  });
});
