import { copyFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { putJob } from "../../test/helpers/builders";
import { FakeClock } from "../../test/helpers/fake-clock";
import { openOneVoter } from "../../test/helpers/one-voter";
import { tempDir } from "../../test/helpers/tmp";
import { lastApplied } from "../fsm/apply";
import type { StateDb } from "../store/db";
import { getStoredJob } from "../store/job-queries";

const dirs: { cleanup: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup();
});

const openNode = (dir: string, clock: FakeClock) => openOneVoter(dir, clock);

/** Copies a closed state database (with its WAL, if any) aside or back. */
function copyState(from: string, to: string) {
  for (const suffix of ["", "-wal", "-shm"]) {
    rmSync(to + suffix, { force: true });
    if (existsSync(from + suffix)) copyFileSync(from + suffix, to + suffix);
  }
}

const names = (s: StateDb) => ["a", "b", "c"].filter((n) => getStoredJob(s, n) !== undefined).sort();

describe("RaftConsensus over SQLite", () => {
  it("answers a proposal with the applied result, and applied index and last_applied agree", async () => {
    const d = tempDir("dkron-raftc-");
    dirs.push(d);
    const clock = new FakeClock();
    const n = await openNode(d.path, clock);
    const res = await n.raft.propose(putJob({ name: "a" }));
    expect(res.ok).toBe(true);
    expect(getStoredJob(n.state, "a")?.spec.name).toBe("a");
    expect(lastApplied(n.state)).toBe(n.raft.status().appliedIndex);
    await n.close();
  });

  it("re-applies from raft.db what a state.db rolled back by power loss no longer holds", async () => {
    // state.db runs at synchronous=NORMAL on a Raft node: after a power cut its last commits may be
    // gone. raft.db (FULL) still has the entries, so the node must replay them on start.
    const d = tempDir("dkron-raftc-");
    dirs.push(d);
    const clock = new FakeClock();
    const stateFile = join(d.path, "state.db");
    const aside = join(d.path, "state-before.db");

    let n = await openNode(d.path, clock);
    expect((await n.raft.propose(putJob({ name: "a" }))).ok).toBe(true);
    await n.close();
    copyState(stateFile, aside);

    n = await openNode(d.path, clock);
    expect((await n.raft.propose(putJob({ name: "b" }))).ok).toBe(true);
    expect((await n.raft.propose(putJob({ name: "c" }))).ok).toBe(true);
    const appliedBefore = n.raft.status().appliedIndex;
    await n.close();

    // The power cut: the state database loses everything after job "a".
    copyState(aside, stateFile);
    n = await openNode(d.path, clock);
    expect(names(n.state)).toEqual(["a", "b", "c"]);
    expect(lastApplied(n.state)).toBeGreaterThanOrEqual(appliedBefore);
    await n.close();
  });

  it("a write pending when the node stops or leadership moves is reported as of unknown outcome, never NOT_LEADER", async () => {
    // NOT_LEADER makes clients send the write again to the new leader; if the entry also commits
    // there, it would apply twice (a toggle flips back, a manual run starts twice).
    const d = tempDir("dkron-raftc-");
    dirs.push(d);
    const n = await openNode(d.path, new FakeClock());
    const pending = n.raft.propose(putJob({ name: "late" }));
    const stopped = n.close();
    await expect(pending).rejects.toMatchObject({ code: "TIMEOUT", details: { outcome: "unknown" } });
    await stopped;
  });
});
