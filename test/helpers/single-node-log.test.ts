import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type ApplyResult, apply, lastApplied } from "../../control/fsm/apply";
import type { Command } from "../../control/fsm/commands";
import { openStateDb, type StateDb } from "../../control/store/db";
import { getStoredJob } from "../../control/store/job-queries";
import { silentLogger } from "../../shared/logger";
import { putJob, T0 } from "./builders";
import { SingleNodeLog } from "./single-node-log";
import { tempDir } from "./tmp";

// The real apply, wrapped so a test can look at the database at the moment an entry is applied.
vi.mock("../../control/fsm/apply", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../control/fsm/apply")>();
  return { ...real, apply: vi.fn(real.apply) };
});

let dir: ReturnType<typeof tempDir>;
let file: string;
const opened: StateDb[] = [];
const logs: SingleNodeLog[] = [];

beforeEach(() => {
  dir = tempDir("dkron-log-");
  file = join(dir.path, "state.db");
});
afterEach(async () => {
  for (const l of logs.splice(0)) await l.stop();
  for (const s of opened.splice(0)) if (s.sqlite.open) s.close();
  vi.mocked(apply).mockClear();
  dir.cleanup();
});

/** Opens the state file and a log over it (not started). */
function openLog(): { state: StateDb; log: SingleNodeLog } {
  const state = openStateDb(file);
  opened.push(state);
  const log = new SingleNodeLog(state, { nodeName: "n1", logger: silentLogger });
  logs.push(log);
  return { state, log };
}

/** Stops the log and closes its database, as a process exit would. */
async function shutdown(x: { state: StateDb; log: SingleNodeLog }): Promise<void> {
  await x.log.stop();
  x.state.close();
}

const logRows = (s: StateDb) =>
  s.sqlite.prepare("select idx, command from command_log order by idx").all() as {
    idx: number;
    command: string;
  }[];
const toggle = (name = "job"): Command => ({ type: "job.toggle", at: T0, name });

describe("SingleNodeLog", () => {
  it("commits each entry to command_log before applying it", async () => {
    const x = openLog();
    await x.log.start();
    const seen: { index: number; logged: string | undefined; applied: number }[] = [];
    const real = vi.mocked(apply).getMockImplementation()!;
    vi.mocked(apply).mockImplementation((s, index, cmd) => {
      // Read through a second connection: only committed data is visible there.
      const other = new Database(file, { readonly: true });
      const row = other.prepare("select command from command_log where idx = ?").get(index) as
        | { command: string }
        | undefined;
      other.close();
      seen.push({ index, logged: row?.command, applied: lastApplied(s) });
      return real(s, index, cmd);
    });
    try {
      await Promise.all([x.log.propose(putJob()), x.log.propose(toggle())]);
    } finally {
      vi.mocked(apply).mockImplementation(real);
    }
    expect(seen).toEqual([
      { index: 1, logged: JSON.stringify(putJob()), applied: 0 },
      { index: 2, logged: JSON.stringify(toggle()), applied: 1 },
    ]);
  });

  it("resolves proposals in log order with their results; listeners see committed state", async () => {
    const x = openLog();
    const heard: { index: number; type: string; committedApplied: number }[] = [];
    x.log.onApplied((index, cmd) => {
      const other = new Database(file, { readonly: true });
      const row = other.prepare("select value from meta where key = 'last_applied'").get() as {
        value: number;
      };
      other.close();
      heard.push({ index, type: cmd.type, committedApplied: row.value });
    });
    await x.log.start();
    const results = await Promise.all([
      x.log.propose(putJob()),
      x.log.propose(toggle()),
      x.log.propose(putJob({ name: "orphan", parent_job: "missing" })),
      x.log.propose({ type: "noop", at: T0 }),
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true, false, true]);
    expect((results[2] as Extract<ApplyResult, { ok: false }>).error.code).toBe("NOT_FOUND");
    expect(heard.map((h) => [h.index, h.type])).toEqual([
      [1, "job.put"],
      [2, "job.toggle"],
      [3, "job.put"],
      [4, "noop"],
    ]);
    // The batch was committed before anyone heard of it.
    expect(heard.every((h) => h.committedApplied === 4)).toBe(true);
    expect(x.log.status()).toMatchObject({
      state: "leader",
      commitIndex: 4,
      appliedIndex: 4,
      lastLogIndex: 4,
    });
    expect(lastApplied(x.state)).toBe(4);
  });

  it("replays entries logged but not applied (a crash between log commit and apply) exactly once", async () => {
    const first = openLog();
    await first.log.start();
    await first.log.propose(putJob());
    await shutdown(first);

    // The crash: entries 2 and 3 are durable in the log, the state tables never saw them.
    const raw = new Database(file);
    const insert = raw.prepare("insert into command_log (idx, term, command) values (?, 1, ?)");
    insert.run(2, JSON.stringify(toggle()));
    insert.run(3, JSON.stringify(putJob({ name: "second" })));
    raw.close();

    const second = openLog();
    const heard: number[] = [];
    second.log.onApplied((i) => heard.push(i));
    await second.log.start();
    expect(getStoredJob(second.state, "job")?.spec.disabled).toBe(true);
    expect(getStoredJob(second.state, "second")).toBeDefined();
    expect(second.log.status()).toMatchObject({ appliedIndex: 3, lastLogIndex: 3 });
    // New entries continue after the replayed ones.
    await second.log.propose(toggle("second"));
    expect(logRows(second.state).map((r) => r.idx)).toEqual([1, 2, 3, 4]);
    expect(heard).toEqual([4]);
    await shutdown(second);

    // Another restart replays nothing: the toggle at 2 is not applied a second time.
    const third = openLog();
    await third.log.start();
    expect(lastApplied(third.state)).toBe(4);
    expect(getStoredJob(third.state, "job")?.spec.disabled).toBe(true);
    expect(getStoredJob(third.state, "second")?.spec.disabled).toBe(true);
    expect(vi.mocked(apply).mock.calls.filter(([, index]) => index === 2)).toHaveLength(1);
  });

  it("an entry whose apply blew up stays in the log and is applied on restart", async () => {
    const first = openLog();
    await first.log.start();
    vi.mocked(apply).mockImplementationOnce(() => {
      throw new Error("disk on fire");
    });
    await expect(first.log.propose(putJob())).rejects.toThrow("disk on fire");
    expect(getStoredJob(first.state, "job")).toBeUndefined();
    expect(logRows(first.state).map((r) => r.idx)).toEqual([1]);
    await shutdown(first);

    const second = openLog();
    await second.log.start();
    expect(getStoredJob(second.state, "job")).toBeDefined();
    expect(lastApplied(second.state)).toBe(1);
  });

  it("refuses proposals before start and after stop; stop lets queued proposals finish", async () => {
    const x = openLog();
    const leadership: boolean[] = [];
    x.log.onLeadership((l) => leadership.push(l));
    await expect(x.log.propose(putJob())).rejects.toMatchObject({ code: "UNAVAILABLE" });
    await x.log.start();
    expect(x.log.isLeader()).toBe(true);
    const queued = x.log.propose(putJob());
    await x.log.stop();
    await expect(queued).resolves.toMatchObject({ ok: true });
    await expect(x.log.propose(toggle())).rejects.toMatchObject({ code: "UNAVAILABLE" });
    expect(x.log.isLeader()).toBe(false);
    expect(leadership).toEqual([true, false]);
  });

  it("compacts the log far behind last_applied and keeps numbering after a restart", async () => {
    const first = openLog();
    await first.log.start();
    const noops: Promise<ApplyResult>[] = [];
    for (let i = 0; i < 1600; i++) noops.push(first.log.propose({ type: "noop", at: T0 + i }));
    await Promise.all(noops);
    const rows = logRows(first.state);
    expect(rows.at(-1)?.idx).toBe(1600);
    expect(rows.length).toBeLessThan(1600);
    expect(rows[0]!.idx).toBeLessThanOrEqual(1600 - 1000);
    await shutdown(first);

    const second = openLog();
    await second.log.start();
    const heard: number[] = [];
    second.log.onApplied((i) => heard.push(i));
    await second.log.propose(putJob());
    expect(heard).toEqual([1601]);
  });
});
