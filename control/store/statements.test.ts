import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { finishExecution, jobRow, putJob, startExecution, T0 } from "../../test/helpers/builders";
import { tempDir } from "../../test/helpers/tmp";
import { apply, lastApplied } from "../fsm/apply";
import { openStateDb, type StateDb } from "./db";
import { getStoredJob } from "./job-queries";
import { restoreStateSnapshot, takeStateSnapshot } from "./snapshot";
import { statements } from "./statements";

const open: StateDb[] = [];
const db = (file = ":memory:") => {
  const s = openStateDb(file);
  open.push(s);
  return s;
};
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

describe("statements: prepared once per state database", () => {
  it("hands back the same prepared queries for one db and separate ones for another", () => {
    const a = db();
    const b = db();
    expect(statements(a)).toBe(statements(a));
    expect(statements(b)).not.toBe(statements(a));
    expect(statements(a).jobByName).not.toBe(statements(b).jobByName);
  });

  it("keeps many open databases apart: each reads and writes only its own rows", () => {
    const dbs = Array.from({ length: 5 }, () => db());
    dbs.forEach((s, i) => {
      expect(apply(s, 1, putJob({ name: `job-${i}` })).ok).toBe(true);
    });
    dbs.forEach((s, i) => {
      expect(lastApplied(s)).toBe(1);
      expect(getStoredJob(s, `job-${i}`)?.spec.name).toBe(`job-${i}`);
      expect(getStoredJob(s, `job-${(i + 1) % dbs.length}`)).toBeUndefined();
    });
  });

  it("reads the restored rows after a snapshot replaced the tables under its prepared queries", () => {
    const dir = tempDir("dkron-statements-");
    try {
      const source = db(join(dir.path, "a.db"));
      const target = db(join(dir.path, "b.db"));
      apply(source, 1, putJob({ name: "from-snapshot" }));
      apply(target, 1, putJob({ name: "replaced" }));
      apply(target, 2, { type: "noop", at: T0 });
      expect(lastApplied(target)).toBe(2); // prepares target's statements before the restore
      restoreStateSnapshot(target, takeStateSnapshot(source));
      expect(lastApplied(target)).toBe(1);
      expect(getStoredJob(target, "from-snapshot")?.spec.name).toBe("from-snapshot");
      expect(getStoredJob(target, "replaced")).toBeUndefined();
      expect(apply(target, 2, putJob({ name: "after" })).ok).toBe(true);
      expect(lastApplied(target)).toBe(2);
    } finally {
      dir.cleanup();
    }
  });

  it("stores booleans as 0/1 and NULLs as NULL through placeholders, as drizzle's encoders did", () => {
    const s = db();
    apply(s, 1, putJob());
    apply(
      s,
      2,
      startExecution({ executions: [{ id: "ok" }, { id: "bad" }].map((e) => ({ ...e, node: "r1" })) }),
    );
    apply(s, 3, finishExecution("ok", { startedAt: T0 + 5 }));
    apply(s, 4, finishExecution("bad", { success: false, exitCode: null }));
    const rows = s.sqlite
      .prepare("select id, success, exit_code, started_at from executions order by id")
      .all();
    expect(rows).toEqual([
      { id: "bad", success: 0, exit_code: null, started_at: startExecution().at },
      { id: "ok", success: 1, exit_code: 0, started_at: T0 + 5 },
    ]);
    expect(jobRow(s, "job")).toMatchObject({
      success_count: 1,
      error_count: 1,
      status: "partially_failed",
    });
  });
});
