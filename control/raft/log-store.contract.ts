import { afterEach, describe, expect, it } from "vitest";
import type { LogStore } from "./log-store";
import type { Entry, Snapshot } from "./messages";

/** How the contract suite gets stores: a fresh one, and the same one reopened (as after a crash). */
export interface LogStoreHarness {
  open(): LogStore;
  reopen(): LogStore;
  cleanup(): void;
}

const ent = (index: number, term: number, data = `d${index}`): Entry => ({
  index,
  term,
  type: "normal",
  data,
});
const range = (lo: number, hi: number, term: number) =>
  Array.from({ length: hi - lo + 1 }, (_, i) => ent(lo + i, term));
const snap = (index: number, term: number, data = "state"): Snapshot => ({
  meta: { index, term, conf: { voters: ["a", "b", "c"], learners: ["d"], autoPromote: [] } },
  data,
});

/** One suite every LogStore implementation must pass. */
export function runLogStoreContract(name: string, makeHarness: () => LogStoreHarness): void {
  describe(`LogStore contract: ${name}`, () => {
    let h: LogStoreHarness | undefined;
    const fresh = () => {
      h = makeHarness();
      return h.open();
    };
    afterEach(() => h?.cleanup());

    it("starts empty", () => {
      const st = fresh().load();
      expect(st).toEqual({
        hardState: { term: 0, vote: null, commit: 0 },
        snapshot: null,
        logStart: { index: 0, term: 0 },
        entries: [],
      });
    });

    it("saves entries and hard state together", () => {
      const s = fresh();
      s.save({ entries: range(1, 3, 1), hardState: { term: 1, vote: "a", commit: 2 }, discardLog: false });
      const st = s.load();
      expect(st.entries).toEqual(range(1, 3, 1));
      expect(st.hardState).toEqual({ term: 1, vote: "a", commit: 2 });
    });

    it("drops the suffix when an entry is overwritten", () => {
      const s = fresh();
      s.save({ entries: range(1, 5, 1), discardLog: false });
      s.save({ entries: [ent(3, 2, "x"), ent(4, 2, "y")], discardLog: false });
      expect(s.load().entries).toEqual([ent(1, 1), ent(2, 1), ent(3, 2, "x"), ent(4, 2, "y")]);
    });

    it("rejects a gap and leaves the store untouched", () => {
      const s = fresh();
      s.save({ entries: range(1, 2, 1), hardState: { term: 1, vote: null, commit: 0 }, discardLog: false });
      expect(() =>
        s.save({ entries: [ent(4, 1)], hardState: { term: 9, vote: "z", commit: 1 }, discardLog: false }),
      ).toThrow();
      const st = s.load();
      expect(st.entries).toEqual(range(1, 2, 1));
      expect(st.hardState.term).toBe(1);
      s.save({ entries: [ent(3, 1)], discardLog: false });
      expect(s.load().entries).toHaveLength(3);
    });

    it("compacts a prefix behind a local snapshot and keeps the rest", () => {
      const s = fresh();
      s.save({ entries: range(1, 10, 1), discardLog: false });
      s.save({ entries: [], snapshot: snap(8, 1), compact: { index: 6, term: 1 }, discardLog: false });
      const st = s.load();
      expect(st.logStart).toEqual({ index: 6, term: 1 });
      expect(st.entries).toEqual(range(7, 10, 1));
      expect(st.snapshot).toEqual(snap(8, 1));
      s.save({ entries: range(11, 12, 2), discardLog: false });
      expect(s.load().entries.map((e) => e.index)).toEqual([7, 8, 9, 10, 11, 12]);
      expect(() => s.save({ entries: [ent(6, 3)], discardLog: false })).toThrow();
    });

    it("installs a leader's snapshot: the whole log goes, new entries follow it", () => {
      const s = fresh();
      s.save({ entries: range(1, 10, 1), discardLog: false });
      s.save({
        entries: [ent(21, 3)],
        snapshot: snap(20, 3, "big".repeat(1000)),
        compact: { index: 20, term: 3 },
        discardLog: true,
        hardState: { term: 3, vote: null, commit: 20 },
      });
      const st = s.load();
      expect(st.logStart).toEqual({ index: 20, term: 3 });
      expect(st.entries).toEqual([ent(21, 3)]);
      expect(st.snapshot?.data).toBe("big".repeat(1000));
      expect(st.hardState.commit).toBe(20);
    });

    it("installs a snapshot behind the stored log's end too (stale suffix discarded)", () => {
      const s = fresh();
      s.save({ entries: range(1, 10, 1), discardLog: false });
      s.save({ entries: [], snapshot: snap(5, 2), compact: { index: 5, term: 2 }, discardLog: true });
      const st = s.load();
      expect(st.entries).toEqual([]);
      expect(st.logStart).toEqual({ index: 5, term: 2 });
    });

    it("keeps everything across a reopen", () => {
      const s = fresh();
      s.save({ entries: range(1, 4, 1), hardState: { term: 2, vote: "b", commit: 3 }, discardLog: false });
      s.save({ entries: [], snapshot: snap(3, 1), compact: { index: 2, term: 1 }, discardLog: false });
      // A store may read the snapshot's data on demand while it is open: copy it out before closing.
      const before = structuredClone(s.load());
      s.close();
      const again = h?.reopen();
      expect(again?.load()).toEqual(before);
      again?.save({ entries: [ent(5, 2)], discardLog: false });
      expect(again?.load().entries.map((e) => e.index)).toEqual([3, 4, 5]);
      again?.close();
    });
  });
}
