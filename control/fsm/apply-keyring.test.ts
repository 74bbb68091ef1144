import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { T0 } from "../../test/helpers/builders";
import { tempDir } from "../../test/helpers/tmp";
import { openStateDb, type StateDb } from "../store/db";
import { getGossipKeyring } from "../store/keyring-queries";
import { restoreStateSnapshot, takeStateSnapshot } from "../store/snapshot";
import { apply, lastApplied } from "./apply";
import type { GossipKeysCommand } from "./commands";

let dir: ReturnType<typeof tempDir>;
let s: StateDb;
beforeEach(() => {
  dir = tempDir("dkron-apply-keyring-");
  s = openStateDb(join(dir.path, "state.db"));
});
afterEach(() => {
  s.close();
  dir.cleanup();
});

const key = (c: string) => `${c.repeat(42)}A=`;
const [a, b] = [key("a"), key("b")];
const op = (o: GossipKeysCommand["op"], k: string, seed: string[] = []) =>
  apply(s, lastApplied(s) + 1, { type: "gossip-keys.change", at: T0, op: o, key: k, seed });

describe("apply: gossip-keys.change", () => {
  it("replicates a rotation: install seeds from the leader's keys, use and remove change the stored keyring", () => {
    expect(getGossipKeyring(s)).toBeNull();
    expect(op("install", b, [a])).toEqual({
      ok: true,
      value: { keys: [a, b] },
      events: [{ kind: "keyring.changed" }],
    });
    // The seed matters only before the first operation: a later proposer's flags do not reset it.
    expect(op("use", b, [key("z")])).toMatchObject({ ok: true, value: { keys: [b, a] } });
    expect(op("remove", a)).toMatchObject({ ok: true, value: { keys: [b] } });
    expect(getGossipKeyring(s)).toEqual([b]);
  });

  it("a refused operation changes nothing but last_applied, identically on every replica", () => {
    op("install", b, [a]);
    const before = lastApplied(s);
    expect(op("remove", a)).toMatchObject({ ok: false, error: { code: "CONFLICT" } });
    expect(op("use", key("c"))).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
    expect(getGossipKeyring(s)).toEqual([a, b]);
    expect(lastApplied(s)).toBe(before + 2);
  });

  it("refuses a keyring for a plain-text pool (nothing to seed from)", () => {
    expect(op("install", a, [])).toMatchObject({ ok: false, error: { code: "CONFLICT" } });
    expect(getGossipKeyring(s)).toBeNull();
  });

  it("the keyring travels in snapshots", () => {
    op("install", b, [a]);
    const other = openStateDb(join(dir.path, "other.db"));
    try {
      restoreStateSnapshot(other, takeStateSnapshot(s));
      expect(getGossipKeyring(other)).toEqual([a, b]);
    } finally {
      other.close();
    }
  });
});
