/**
 * Throughput of the Raft core (control/raft), in process, no network:
 *   1. the core alone with in-memory log stores (entries/s through a 3-node cluster), and
 *   2. the core with SQLite log stores (WAL, synchronous=FULL): commits/s with 1 and 64 entries per
 *      Ready batch, for one node and for three nodes sharing this disk.
 * Each figure runs for a fixed wall time. Prints figures; asserts nothing.
 * Run: node --import tsx bench/raft-core.ts
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { persistBatch, RaftNode } from "../control/raft/core";
import { type LogStore, MemoryLogStore } from "../control/raft/log-store";
import type { Message } from "../control/raft/messages";
import { seededRandom } from "../control/raft/random";
import { SqliteLogStore } from "../control/store/raft-log-store";
import { type Figure, reportFigures } from "./report";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const PAYLOAD = JSON.stringify({
  type: "execution.start",
  job: "backup-db",
  slot: "2026-01-01T00:00:00Z",
  pad: "x".repeat(128),
});

interface Member {
  node: RaftNode;
  store: LogStore;
  applied: number;
}

function cluster(ids: string[], makeStore: (id: string) => LogStore): Map<string, Member> {
  return new Map(
    ids.map((id, i) => {
      const store = makeStore(id);
      const node = new RaftNode({
        id,
        storage: store.load(),
        bootstrap: ids,
        random: seededRandom(i + 1),
        maxEntriesPerMsg: 256,
        maxInflight: 256,
        snapshotThreshold: 0,
      });
      return [id, { node, store, applied: 0 }];
    }),
  );
}

/** One round of the driver loop on every member, then deliver every message. */
function pump(members: Map<string, Member>, tick: boolean): void {
  const inbox: Message[] = [];
  for (const m of members.values()) {
    if (tick) m.node.tick();
    for (let rd = m.node.ready(); rd; rd = m.node.ready()) {
      inbox.push(...rd.messages);
      m.store.save(persistBatch(rd));
      m.applied += rd.committedEntries.length;
      inbox.push(...rd.messagesAfterPersist);
      m.node.advance(rd);
    }
  }
  for (const msg of inbox) members.get(msg.to)?.node.step(msg);
}

function electLeader(members: Map<string, Member>): Member {
  for (let i = 0; i < 500; i++) {
    pump(members, true);
    const l = [...members.values()].find((m) => m.node.role === "leader" && m.node.commitIndex > 1);
    if (l) {
      for (let j = 0; j < 5; j++) pump(members, false);
      return l;
    }
  }
  throw new Error("no leader");
}

/** Proposes `batch` entries at a time and drives the cluster until the leader applied them. */
function measure(
  members: Map<string, Member>,
  batch: number,
): { commits: number; entries: number; secs: number } {
  const leader = electLeader(members);
  const deadline = performance.now() + SECONDS * 1000;
  const start = performance.now();
  const startApplied = leader.applied;
  let commits = 0;
  while (performance.now() < deadline) {
    for (let i = 0; i < batch; i++) leader.node.propose(PAYLOAD);
    const target = leader.node.lastIndex;
    while (leader.node.commitIndex < target || leader.node.appliedIndex < target) pump(members, false);
    commits++;
  }
  const secs = (performance.now() - start) / 1000;
  return { commits, entries: leader.applied - startApplied, secs };
}

function line(label: string, r: { commits: number; entries: number; secs: number }): string {
  const cps = Math.round(r.commits / r.secs);
  const eps = Math.round(r.entries / r.secs);
  return `${label.padEnd(46)} ${String(cps).padStart(8)} commits/s ${String(eps).padStart(9)} entries/s`;
}

function main(): void {
  console.log(
    `raft core bench: ${cpus().length} CPUs, ${SECONDS}s per figure, ${PAYLOAD.length}-byte entries`,
  );
  const figures: Figure[] = [];
  const memory = new Map<number, number>();
  for (const batch of [1, 64]) {
    const r = measure(
      cluster(["a", "b", "c"], () => new MemoryLogStore()),
      batch,
    );
    console.log(line(`3 nodes, memory store, ${batch}/batch`, r));
    memory.set(batch, r.entries / r.secs);
  }
  const dir = mkdtempSync(join(tmpdir(), "raft-bench-"));
  try {
    let run = 0;
    for (const nodes of [1, 3]) {
      for (const batch of [1, 64]) {
        run++;
        const ids = ["a", "b", "c"].slice(0, nodes);
        const stores: SqliteLogStore[] = [];
        const members = cluster(ids, (id) => {
          const s = SqliteLogStore.open(join(dir, `${run}-${id}.db`));
          stores.push(s);
          return s;
        });
        const r = measure(members, batch);
        console.log(line(`${nodes} node${nodes > 1 ? "s" : ""}, SQLite FULL, ${batch}/batch`, r));
        figures.push({
          figure: `Raft core, ${nodes} node${nodes > 1 ? "s" : ""}, SQLite FULL, ${batch} entries/batch`,
          ours: r.entries / r.secs,
          unit: "entries/s",
          baseline: memory.get(batch)!,
          baselineWhat: "3 nodes, memory store",
          reproduce: "node --import tsx bench/raft-core.ts",
        });
        for (const s of stores) s.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  reportFigures("raft-core", figures);
}

main();
