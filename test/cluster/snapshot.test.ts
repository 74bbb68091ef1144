import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/agent-process";
import { getJson, postManualJob, TestCluster } from "../helpers/cluster";
import { tempDir } from "../helpers/tmp";

const dir = tempDir("dkron-snapshot-");
let cluster: TestCluster | undefined;
afterAll(async () => {
  await cluster?.stop();
  dir.cleanup();
});

/** The snapshot index and where the log starts in a node's raft.db (read-only, beside the running node). */
function storedLog(dataDir: string): { snapshot: number; logStart: number } {
  const db = new Database(join(dataDir, "raft.db"), { readonly: true, fileMustExist: true });
  try {
    const snap = db.prepare("SELECT idx FROM raft_snapshot WHERE id = 1").get() as
      | { idx: number }
      | undefined;
    const hs = db.prepare("SELECT log_start_index AS s FROM raft_hard_state WHERE id = 1").get() as
      | { s: number }
      | undefined;
    return { snapshot: snap?.idx ?? 0, logStart: hs?.s ?? 0 };
  } finally {
    db.close();
  }
}

describe("snapshots across real nodes", () => {
  it("compacts the log, and a node that joins behind the compacted log is brought up by a snapshot", async () => {
    cluster = await TestCluster.start({
      size: 3,
      baseDir: dir.path,
      profile: "fast",
      extraArgs: ["--raft-snapshot-threshold", "100"],
    });
    const c = cluster;
    const leader = await c.waitForLeader();
    // Beyond the threshold plus the 1,024 entries kept behind a snapshot, so a new node cannot be
    // caught up from the log alone.
    const total = 1600;
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = next++; i < total; i = next++) {
          const r = await postManualJob(leader.url, `bulk-${i}`);
          expect(r.status).toBe(201);
        }
      }),
    );
    const atLeader = storedLog(leader.dataDir);
    expect(atLeader.snapshot).toBeGreaterThan(total - 200);
    // The leader no longer has the first entries: a new node can only start from its snapshot.
    expect(atLeader.logStart).toBeGreaterThan(100);

    const n4 = await c.addNode();
    await waitFor(
      "n4 applied everything",
      async () => {
        const [mine, lead] = await Promise.all([
          getJson<{ raft: { applied_index: number } }>(`${n4.url}/v1/?stale=true`),
          getJson<{ raft: { commit_index: number } }>(`${leader.url}/v1/`),
        ]);
        return mine && lead && mine.raft.applied_index >= lead.raft.commit_index - 5 ? true : undefined;
      },
      30_000,
    );
    // It got there through the leader's snapshot (the entries it lacked were compacted away), and the
    // installed state holds every job.
    for (const name of ["bulk-0", "bulk-799", `bulk-${total - 1}`])
      expect((await fetch(`${n4.url}/v1/jobs/${name}?stale=true`)).status, name).toBe(200);
    const page = await fetch(`${n4.url}/v1/jobs?stale=true&q=bulk-&_start=0&_end=1`);
    expect(page.headers.get("x-total-count")).toBe(String(total));
  }, 120_000);
});
