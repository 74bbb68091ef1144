/**
 * Real SQLite state databases for the state machine's tests (control/fsm/*.test.ts): files in a temp
 * dir of each test's own, migrated as a node opens them, closed and removed after the test.
 */
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { type ApplyResult, apply, lastApplied } from "../../control/fsm/apply";
import type { Command } from "../../control/fsm/commands";
import { openStateDb, type StateDb } from "../../control/store/db";
import { tempDir } from "./tmp";

/** What stateDbsPerTest gives a test file. */
export interface StateDbs {
  /** A real SQLite file in the test's temp dir, migrated as the node opens it. */
  db(name?: string): StateDb;
  /** Closes `s` now (a test about reopening its file); the afterEach does not close it again. */
  close(s: StateDb): void;
}

/**
 * Registers, in the calling file, a beforeEach that makes a fresh temp dir named `prefix…` and an
 * afterEach that closes every database opened in the test and removes the dir.
 */
export function stateDbsPerTest(prefix: string): StateDbs {
  let dir: ReturnType<typeof tempDir> | undefined;
  let open: StateDb[] = [];
  beforeEach(() => {
    dir = tempDir(prefix);
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
    dir?.cleanup();
  });
  return {
    db(name = "state.db") {
      if (!dir) throw new Error("stateDbsPerTest: db() called outside a test");
      const s = openStateDb(join(dir.path, name));
      open.push(s);
      return s;
    },
    close(s) {
      s.close();
      open = open.filter((x) => x !== s);
    },
  };
}

/** Applies commands at consecutive indexes after last_applied; returns the results. */
export function applyAll(s: StateDb, cmds: Command[]): ApplyResult[] {
  return cmds.map((c) => apply(s, lastApplied(s) + 1, c));
}
