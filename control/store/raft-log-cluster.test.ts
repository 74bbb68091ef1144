import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { persistBatch, RaftNode } from "../raft/core";
import type { Entry, Message } from "../raft/messages";
import { seededRandom } from "../raft/random";
import { SqliteLogStore } from "./raft-log-store";

// The core over real SQLite log stores: a three-node cluster driven in-process (no faults; the
// simulator covers those), shut down completely and restarted from the database files.

const IDS = ["a", "b", "c"];

class Member {
  node: RaftNode;
  applied: Entry[] = [];

  constructor(
    readonly id: string,
    readonly store: SqliteLogStore,
    appliedIndex: number,
  ) {
    this.node = new RaftNode({
      id,
      storage: store.load(),
      applied: appliedIndex,
      bootstrap: IDS,
      random: seededRandom(id.charCodeAt(0)),
      snapshotThreshold: 0,
    });
  }
}

function run(members: Map<string, Member>, rounds: number, tick = true): void {
  const inbox: Message[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const m of members.values()) {
      if (tick) m.node.tick();
      for (let rd = m.node.ready(); rd; rd = m.node.ready()) {
        inbox.push(...rd.messages);
        m.store.save(persistBatch(rd));
        m.applied.push(...rd.committedEntries);
        inbox.push(...rd.messagesAfterPersist);
        m.node.advance(rd);
      }
    }
    for (const msg of inbox.splice(0)) members.get(msg.to)?.node.step(msg);
  }
}

describe("RaftNode over SqliteLogStore", () => {
  let dir = "";
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("replicates, survives a full restart from disk and keeps going", () => {
    dir = mkdtempSync(join(tmpdir(), "raft-sqlite-"));
    const open = (applied: Map<string, number>) =>
      new Map(
        IDS.map((id) => [
          id,
          new Member(id, SqliteLogStore.open(join(dir, `${id}.db`)), applied.get(id) ?? 0),
        ]),
      );
    let members = open(new Map());
    run(members, 60);
    const leader = [...members.values()].find((m) => m.node.role === "leader");
    expect(leader).toBeDefined();
    for (let i = 0; i < 30; i++) leader?.node.propose(`cmd-${i}`);
    run(members, 20);
    const before = [...members.values()].map(
      (m) => m.applied.filter((e) => e.data.startsWith("cmd-")).length,
    );
    expect(before).toEqual([30, 30, 30]);
    const applied = new Map([...members].map(([id, m]) => [id, m.node.appliedIndex]));
    const last = leader?.node.lastIndex ?? 0;
    for (const m of members.values()) m.store.close();

    members = open(applied);
    for (const m of members.values()) {
      expect(m.node.lastIndex).toBe(last);
      expect(m.node.commitIndex).toBe(last);
    }
    run(members, 60);
    const next = [...members.values()].find((m) => m.node.role === "leader");
    expect(next).toBeDefined();
    next?.node.propose("after-restart");
    run(members, 20);
    for (const m of members.values()) {
      expect(m.applied.map((e) => e.data)).toContain("after-restart");
      // Nothing applied before the restart is handed out again.
      expect(m.applied.some((e) => e.data.startsWith("cmd-"))).toBe(false);
      m.store.close();
    }
  });
});
