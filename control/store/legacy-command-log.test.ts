import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { preserveLegacyCommandLog, readLegacyCommandLog } from "./legacy-command-log";

/** A database with the old release's command_log table and the given rows. */
function withCommandLog(rows: [number, string][]): Database.Database {
  const sqlite = new Database(":memory:");
  sqlite.exec(
    "CREATE TABLE command_log (idx integer PRIMARY KEY NOT NULL, term integer NOT NULL, command text NOT NULL)",
  );
  const insert = sqlite.prepare("INSERT INTO command_log VALUES (?, 1, ?)");
  for (const [i, c] of rows) insert.run(i, c);
  return sqlite;
}

const hasLegacy = (s: Database.Database) =>
  s.prepare("SELECT 1 FROM sqlite_master WHERE name = 'legacy_command_log'").get() !== undefined;

describe("the legacy command log bridge", () => {
  it("creates nothing for a database without command_log rows", () => {
    const none = new Database(":memory:");
    preserveLegacyCommandLog(none);
    expect(hasLegacy(none)).toBe(false);
    expect(readLegacyCommandLog(none, 0)).toEqual([]);
    const empty = withCommandLog([]);
    preserveLegacyCommandLog(empty);
    expect(hasLegacy(empty)).toBe(false);
  });

  it("copies the rows, copies again over them after a crash before the drop, and reads those above an index", () => {
    const s = withCommandLog([
      [1, "a"],
      [2, "b"],
    ]);
    s.pragma("synchronous = NORMAL");
    preserveLegacyCommandLog(s);
    // The drop did not run; the old log grew (an old release ran again) before the next open.
    s.prepare("INSERT INTO command_log VALUES (3, 1, 'c')").run();
    preserveLegacyCommandLog(s);
    expect(readLegacyCommandLog(s, 0).map((r) => [r.index, r.term, r.command])).toEqual([
      [1, 1, "a"],
      [2, 1, "b"],
      [3, 1, "c"],
    ]);
    expect(readLegacyCommandLog(s, 2).map((r) => r.index)).toEqual([3]);
    // The copy ran FULL; the connection is back to NORMAL.
    expect(Number(s.pragma("synchronous", { simple: true }))).toBe(1);
  });
});
