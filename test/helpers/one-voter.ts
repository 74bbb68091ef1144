import { join } from "node:path";
import { RaftConsensus } from "../../control/consensus/raft-consensus";
import { seededRandom } from "../../control/raft/random";
import { openStateDb, type StateDb } from "../../control/store/db";
import { SqliteLogStore } from "../../control/store/raft-log-store";
import { StateSnapshotWriter } from "../../control/store/snapshot-writer";
import { type Logger, silentLogger } from "../../shared/logger";
import type { FakeClock } from "./fake-clock";

/** A one-voter RaftConsensus on real SQLite files in `dir`, as a single node runs it, on virtual time. */
export interface OneVoter {
  state: StateDb;
  log: SqliteLogStore;
  raft: RaftConsensus;
  close(): Promise<void>;
}

/**
 * Opens the node's state.db (NORMAL, as nodes run it) and raft.db; `before` runs between opening and
 * starting Raft (e.g. adopting an old data dir), `attach` between building RaftConsensus and starting
 * it (e.g. to register listeners). Starts Raft and waits until the node leads (the drain runs on
 * setImmediate, so this yields to the event loop); with `elect: false` it stays a follower that has
 * not campaigned (until its election timeout passes on `clock`).
 */
export async function openOneVoter(
  dir: string,
  clock: FakeClock,
  before?: (n: Omit<OneVoter, "raft" | "close">) => void,
  opts: {
    id?: string;
    tickMs?: number;
    logger?: Logger;
    attach?: (n: Omit<OneVoter, "close">) => void;
    elect?: boolean;
    /** Entries between snapshots, and kept behind one (the core's defaults when unset). */
    snapshotThreshold?: number;
    trailingEntries?: number;
    /** Take snapshots off the event loop into files, as a node does. */
    snapshotFiles?: boolean;
  } = {},
): Promise<OneVoter> {
  const state = openStateDb(join(dir, "state.db"), { synchronous: "NORMAL" });
  const log = SqliteLogStore.open(join(dir, "raft.db"));
  before?.({ state, log });
  const writer =
    opts.snapshotFiles && log.snapshotDir
      ? new StateSnapshotWriter(join(dir, "state.db"), log.snapshotDir)
      : undefined;
  const raft = new RaftConsensus({
    id: opts.id ?? "n1",
    state,
    log,
    send: () => {},
    clock,
    logger: opts.logger ?? silentLogger,
    random: seededRandom(7),
    tickMs: opts.tickMs ?? 10,
    tunables: {
      electionTicks: 10,
      heartbeatTicks: 1,
      ...(opts.snapshotThreshold === undefined ? {} : { snapshotThreshold: opts.snapshotThreshold }),
      ...(opts.trailingEntries === undefined ? {} : { trailingEntries: opts.trailingEntries }),
    },
    bootstrap: [opts.id ?? "n1"],
    ...(writer
      ? {
          snapshots: {
            take: () => writer.take(),
            discard: (f: string) => log.discardSnapshotFile(f),
            read: (f: string) => log.readSnapshotFile(f),
          },
        }
      : {}),
  });
  opts.attach?.({ state, log, raft });
  await raft.start();
  if (opts.elect ?? true) {
    raft.campaign();
    for (let i = 0; i < 1000 && !raft.isLeader(); i++) await new Promise((r) => setImmediate(r));
    if (!raft.isLeader()) throw new Error("a lone voter did not elect itself");
  }
  return {
    state,
    log,
    raft,
    close: async () => {
      await raft.stop();
      await writer?.close();
      log.close();
      state.close();
    },
  };
}
