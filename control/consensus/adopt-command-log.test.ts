import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../shared/logger";
import { putJob } from "../../test/helpers/builders";
import { FakeClock } from "../../test/helpers/fake-clock";
import { openOneVoter } from "../../test/helpers/one-voter";
import { SingleNodeLog } from "../../test/helpers/single-node-log";
import { tempDir } from "../../test/helpers/tmp";
import { lastApplied } from "../fsm/apply";
import { openStateDb } from "../store/db";
import { getStoredJob } from "../store/job-queries";
import { SqliteLogStore } from "../store/raft-log-store";
import { commandLog } from "../store/schema";
import { adoptCommandLog } from "./adopt-command-log";

const dirs: { cleanup: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup();
});

describe("adopting a one-node command log onto raft.db", () => {
  it("keeps every logged write, applies the unapplied tail, and the one-voter group continues after it", async () => {
    const d = tempDir("dkron-adopt-");
    dirs.push(d);
    const stateFile = join(d.path, "state.db");

    // A data dir written the old way: two applied writes and one logged (acknowledged) but not applied.
    let state = openStateDb(stateFile);
    const old = new SingleNodeLog(state, { nodeName: "n1", logger: silentLogger });
    await old.start();
    expect((await old.propose(putJob({ name: "a" }))).ok).toBe(true);
    expect((await old.propose(putJob({ name: "b" }))).ok).toBe(true);
    await old.stop();
    const tail = lastApplied(state) + 1;
    state.db
      .insert(commandLog)
      .values({ index: tail, term: 1, command: JSON.stringify(putJob({ name: "c" })) })
      .run();
    state.close();

    const n = await openOneVoter(d.path, new FakeClock(), ({ state: st, log }) => {
      expect(adoptCommandLog(st, log, "n1", silentLogger)).toBe(tail);
      expect(st.db.select().from(commandLog).all()).toEqual([]);
      // A second start finds raft.db seeded and leaves it alone (no second snapshot, nothing discarded).
      const seeded = log.load();
      expect(adoptCommandLog(st, log, "n1", silentLogger)).toBe(tail);
      expect(log.load()).toEqual(seeded);
    });
    const { raft } = n;
    state = n.state;
    expect(raft.conf().voters).toEqual(["n1"]);
    for (const name of ["a", "b", "c"]) expect(getStoredJob(state, name)?.spec.name).toBe(name);
    expect((await raft.propose(putJob({ name: "d" }))).ok).toBe(true);
    expect(lastApplied(state)).toBeGreaterThan(tail);
    await n.close();
  });

  it("does nothing for a new data dir", () => {
    const d = tempDir("dkron-adopt-");
    dirs.push(d);
    const state = openStateDb(join(d.path, "state.db"), { synchronous: "NORMAL" });
    const log = SqliteLogStore.open(join(d.path, "raft.db"));
    expect(adoptCommandLog(state, log, "n1", silentLogger)).toBe(0);
    expect(log.load().snapshot).toBeNull();
    log.close();
    state.close();
  });
});
