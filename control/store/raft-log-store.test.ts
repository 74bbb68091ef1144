import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fileSnapshot, snapshotFileOf } from "../raft";
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

describe("SqliteLogStore snapshot files", () => {
  const conf = { voters: ["n1"], learners: [], autoPromote: [] };
  it("records a file snapshot by name, reads its data from the file, and keeps a newer file still being written", () => {
    const dir = mkdtempSync(join(tmpdir(), "raft-log-"));
    try {
      const s = SqliteLogStore.open(join(dir, "log.db"));
      const sd = s.snapshotDir!;
      mkdirSync(sd, { recursive: true });
      const entries = Array.from({ length: 12 }, (_, i) => ({
        index: i + 1,
        term: 1,
        type: "normal" as const,
        data: "x",
      }));
      s.save({ entries, discardLog: false, hardState: { term: 1, vote: null, commit: 12 } });
      writeFileSync(join(sd, "state-5.db"), "five");
      s.save({
        entries: [],
        discardLog: false,
        snapshot: fileSnapshot({ index: 5, term: 1, conf }, { file: "state-5.db", read: () => "unused" }),
      });
      writeFileSync(join(sd, "state-10.db"), "ten");
      // Being written by the worker while the store saves snapshot 10: a newer one and a temp file.
      writeFileSync(join(sd, "state-12.db"), "twelve");
      writeFileSync(join(sd, "tmp-abc.db"), "partial");
      s.save({
        entries: [],
        discardLog: false,
        snapshot: fileSnapshot({ index: 10, term: 1, conf }, { file: "state-10.db", read: () => "unused" }),
      });
      expect(readdirSync(sd).sort()).toEqual(["state-10.db", "state-12.db", "tmp-abc.db"]);
      const loaded = s.load().snapshot!;
      expect(loaded.meta.index).toBe(10);
      expect(snapshotFileOf(loaded)).toBe("state-10.db");
      expect(loaded.data).toBe(Buffer.from("ten").toString("base64"));
      // Never the recorded file, even if asked.
      s.discardSnapshotFile("state-10.db");
      s.discardSnapshotFile("state-12.db");
      expect(readdirSync(sd).sort()).toEqual(["state-10.db", "tmp-abc.db"]);
      s.close();
      // At open nothing is being written: everything unrecorded goes.
      SqliteLogStore.open(join(dir, "log.db")).close();
      expect(readdirSync(sd)).toEqual(["state-10.db"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
