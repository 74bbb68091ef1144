import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { putJob } from "../../test/helpers/builders";
import { FakeClock } from "../../test/helpers/fake-clock";
import { type OneVoter, openOneVoter } from "../../test/helpers/one-voter";
import { tempDir } from "../../test/helpers/tmp";
import { lastApplied } from "../fsm/apply";
import { snapshotFileOf } from "../raft";
import { openStateDb } from "../store/db";
import { getStoredJob } from "../store/job-queries";
import { SNAPSHOT_DIR, SqliteLogStore } from "../store/raft-log-store";
import { restoreStateSnapshot } from "../store/snapshot";

const dirs: { cleanup: () => void }[] = [];
const nodes: OneVoter[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.close().catch(() => {});
  for (const d of dirs.splice(0)) d.cleanup();
});

const THRESHOLD = 20;

async function open(dir: string): Promise<OneVoter> {
  const n = await openOneVoter(dir, new FakeClock(), undefined, {
    snapshotThreshold: THRESHOLD,
    // Compact right behind each snapshot, so what it covers is in no log entry any more.
    trailingEntries: 0,
    snapshotFiles: true,
  });
  nodes.push(n);
  return n;
}

/** Waits (real time: the snapshot is written by a worker thread) until `done` holds. */
async function until(what: string, done: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The stored snapshot row as raft.db holds it (read beside the open store). */
function storedRow(dir: string): { idx: number; file: string | null; bytes: number } | undefined {
  const db = new Database(join(dir, "raft.db"), { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT idx, file, length(data) AS bytes FROM raft_snapshot WHERE id = 1").get() as
      | { idx: number; file: string | null; bytes: number }
      | undefined;
  } finally {
    db.close();
  }
}

describe("snapshots written off the event loop", () => {
  it("lands in a file raft.db names, covering the index the copy holds, and restores the state of that index", async () => {
    const d = tempDir("dkron-snapfile-");
    dirs.push(d);
    const n = await open(d.path);
    for (let i = 0; i < 3 * THRESHOLD; i++)
      expect((await n.raft.propose(putJob({ name: `j${i}` }))).ok).toBe(true);
    await until("a snapshot recorded", () => (storedRow(d.path)?.idx ?? 0) > 0);
    // The status (GET /v1's raft.last_snapshot_index) names the recorded snapshot.
    await until("the status names it", () => n.raft.status().snapshotIndex === storedRow(d.path)?.idx);
    // Stopped, so no later snapshot replaces this one (and prunes its file) while it is read.
    await n.close();
    nodes.splice(0);
    const log = SqliteLogStore.open(join(d.path, "raft.db"));

    const row = storedRow(d.path)!;
    // The row names the file and holds no bytes itself.
    expect(row.file).toBe(`state-${row.idx}.db`);
    expect(row.bytes).toBe(0);
    const snap = log.load().snapshot!;
    expect(snap.meta.index).toBe(row.idx);
    expect(snapshotFileOf(snap)).toBe(row.file);
    // Older snapshots' files are gone once a newer one is recorded; the recorded one stays.
    expect(readdirSync(join(d.path, SNAPSHOT_DIR))).toEqual([row.file]);

    // Its data is the state database at exactly its index: every job put up to it, none after.
    const fresh = openStateDb(join(d.path, "restored.db"), { synchronous: "NORMAL" });
    try {
      restoreStateSnapshot(fresh, snap.data);
      expect(lastApplied(fresh)).toBe(snap.meta.index);
      const present = Array.from(
        { length: 3 * THRESHOLD },
        (_, i) => getStoredJob(fresh, `j${i}`) !== undefined,
      );
      const count = present.filter(Boolean).length;
      expect(count).toBeGreaterThan(0);
      // A prefix of the puts, in order: the copy is one consistent point of the log.
      expect(present.slice(0, count).every(Boolean)).toBe(true);
      expect(present.slice(count).some(Boolean)).toBe(false);
    } finally {
      fresh.close();
      log.close();
    }
  });

  it("a node that lost state.db restarts from the snapshot file and the log after it, with every write", async () => {
    const d = tempDir("dkron-snapfile-");
    dirs.push(d);
    let n = await open(d.path);
    const total = 3 * THRESHOLD + 7;
    for (let i = 0; i < total; i++) expect((await n.raft.propose(putJob({ name: `j${i}` }))).ok).toBe(true);
    await until("a snapshot recorded", () => (storedRow(d.path)?.idx ?? 0) > 0);
    const logStart = n.log.load().logStart.index;
    expect(logStart).toBeGreaterThan(0);
    await n.close();
    nodes.splice(0);

    for (const suffix of ["", "-wal", "-shm"]) rmSync(join(d.path, `state.db${suffix}`), { force: true });
    n = await open(d.path);
    for (let i = 0; i < total; i++) expect(getStoredJob(n.state, `j${i}`)?.spec.name).toBe(`j${i}`);
    expect(lastApplied(n.state)).toBe(n.raft.status().appliedIndex);
  });

  it("files nothing recorded are removed when the store opens", async () => {
    const d = tempDir("dkron-snapfile-");
    dirs.push(d);
    let n = await open(d.path);
    for (let i = 0; i < 2 * THRESHOLD; i++) await n.raft.propose(putJob({ name: `j${i}` }));
    await until("a snapshot recorded", () => (storedRow(d.path)?.idx ?? 0) > 0);
    await n.close();
    nodes.splice(0);
    // What a crash can leave: a half-written copy, and a whole one renamed but never recorded.
    const dir = join(d.path, SNAPSHOT_DIR);
    writeFileSync(join(dir, "tmp-0123456789ab.db"), "half");
    writeFileSync(join(dir, "state-999999.db"), "unrecorded");
    n = await open(d.path);
    const recorded = storedRow(d.path)!.file!;
    expect(readdirSync(dir)).toEqual([recorded]);
    expect(existsSync(join(dir, recorded))).toBe(true);
  });
});
