import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runLogStoreContract } from "../raft/log-store.contract";
import { SqliteLogStore } from "./raft-log-store";

runLogStoreContract("sqlite", () => {
  const dir = mkdtempSync(join(tmpdir(), "raft-log-"));
  const file = join(dir, "log.db");
  let current: SqliteLogStore | undefined;
  const open = () => {
    current = SqliteLogStore.open(file);
    return current;
  };
  return {
    open,
    reopen: open,
    cleanup: () => {
      try {
        current?.close();
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe("SqliteLogStore durability settings", () => {
  it("runs with synchronous=FULL in WAL mode", () => {
    const dir = mkdtempSync(join(tmpdir(), "raft-log-"));
    try {
      const s = SqliteLogStore.open(join(dir, "log.db"));
      expect(s.synchronousLevel()).toBe(2);
      // A commit-index-only batch skips the fsync but must leave the connection at FULL.
      s.save({ entries: [], hardState: { term: 1, vote: null, commit: 0 }, discardLog: false, sync: false });
      expect(s.synchronousLevel()).toBe(2);
      expect(s.load().hardState.term).toBe(1);
      s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
