import { describe, expect, it } from "vitest";
import { checkLinearizable, type KvInput, type KvOutput, kvModel, type Model, type Operation } from "./index";
import { cas, get, type KvOp, put, unknown } from "./testkit";

const check = (ops: KvOp[]) => checkLinearizable(kvModel, ops);

function expectOk(ops: KvOp[]): void {
  const r = check(ops);
  expect(r.info).toBeUndefined();
  expect(r).toEqual({ ok: true, result: "ok" });
}

function expectIllegal(ops: KvOp[]): string {
  const r = check(ops);
  expect(r.result).toBe("illegal");
  expect(r.ok).toBe(false);
  expect(typeof r.info).toBe("string");
  return r.info!;
}

describe("checkLinearizable / kvModel: linearizable histories", () => {
  it("accepts the empty history", () => {
    expectOk([]);
  });

  it("accepts a sequential history", () => {
    expectOk([
      get(1, 0, 1, "x", undefined),
      put(1, 2, 3, "x", "a"),
      get(2, 4, 5, "x", "a"),
      put(2, 6, 7, "x", "b"),
      get(1, 8, 9, "x", "b"),
    ]);
  });

  it("accepts a read concurrent with a write seeing either the old or the new value", () => {
    const base = [put(1, 0, 10, "x", "a"), put(1, 20, 40, "x", "b")];
    expectOk([...base, get(2, 25, 35, "x", "a")]);
    expectOk([...base, get(2, 25, 35, "x", "b")]);
    // Two concurrent readers may disagree while the write is in flight, as long as the one that
    // sees the new value does not finish before the other starts.
    expectOk([...base, get(2, 25, 35, "x", "b"), get(3, 22, 38, "x", "a")]);
  });

  it("accepts concurrent writes ordered either way by later reads", () => {
    expectOk([put(1, 0, 10, "x", "a"), put(2, 0, 10, "x", "b"), get(3, 20, 30, "x", "a")]);
    expectOk([put(1, 0, 10, "x", "a"), put(2, 0, 10, "x", "b"), get(3, 20, 30, "x", "b")]);
  });

  it("accepts Porcupine's register example (MIT 6.824 2017 quiz 2, VII)", () => {
    // put(100) spans both reads; one read sees the initial value, the other the new one.
    expectOk([put(0, 0, 100, "r", "100"), get(1, 25, 75, "r", "100"), get(2, 30, 60, "r", undefined)]);
  });

  it("accepts Porcupine's zero-duration example", () => {
    expectOk([
      put(0, 0, 100, "r", "100"),
      get(1, 25, 75, "r", "100"),
      get(2, 30, 30, "r", undefined),
      get(3, 30, 30, "r", undefined),
    ]);
  });

  it("treats an op returning at t and one called at t as concurrent", () => {
    // get returns at 10 with the old value although the write was acknowledged at 10.
    expectOk([put(1, 0, 10, "x", "a"), get(2, 10, 12, "x", undefined)]);
  });

  it("accepts cas successes and failures", () => {
    expectOk([
      cas(1, 0, 1, "x", undefined, "a", true), // create-if-absent
      cas(1, 2, 3, "x", undefined, "z", false),
      cas(2, 4, 5, "x", "a", "b", true),
      cas(2, 6, 7, "x", "a", "c", false),
      get(1, 8, 9, "x", "b"),
    ]);
  });

  it("accepts two concurrent cas from the same value when exactly one wins", () => {
    expectOk([
      put(1, 0, 1, "x", "a"),
      cas(1, 2, 10, "x", "a", "b", true),
      cas(2, 3, 9, "x", "a", "c", false),
      get(3, 11, 12, "x", "b"),
    ]);
  });

  it("accepts an unknown put that took effect, even long after its call", () => {
    expectOk([put(1, 0, 1, "x", "a"), unknown(put(2, 2, 3, "x", "b")), get(3, 500, 501, "x", "b")]);
    // The effect may land after reads that still saw the old value.
    expectOk([
      put(1, 0, 1, "x", "a"),
      unknown(put(2, 2, 3, "x", "b")),
      get(3, 100, 101, "x", "a"),
      get(3, 500, 501, "x", "b"),
    ]);
  });

  it("accepts an unknown put that never took effect", () => {
    expectOk([
      put(1, 0, 1, "x", "a"),
      unknown(put(2, 2, 3, "x", "b")),
      get(3, 100, 101, "x", "a"),
      get(3, 500, 501, "x", "a"),
    ]);
  });

  it("accepts unknown cas ops either way", () => {
    const base = [put(1, 0, 1, "x", "a"), unknown(cas(2, 2, 3, "x", "a", "b", true))];
    expectOk([...base, get(3, 10, 11, "x", "b")]);
    expectOk([...base, get(3, 10, 11, "x", "a")]);
  });

  it("keeps an unknown write available after a branch that used it early failed", () => {
    // Using put(b) early to make the cas at t=4 fail is a dead end (the later cas needs b after
    // both puts of a); the valid order is cas-fail on absent, put a, put a, put b, cas b => a.
    // Regression guard for the memo: a failed configuration that had spent the unknown op must
    // not rule out configurations where it is still unspent.
    expectOk([
      cas(2, 4, 4, "x", "a", "b", false),
      put(0, 1, 6, "x", "a"),
      cas(0, 8, 13, "x", "b", "a", true),
      put(0, 5, 5, "x", "a"),
      unknown(put(0, 2, 3, "x", "b")),
    ]);
  });

  it("ignores the recorded return time of an unknown op", () => {
    // The client gave up at 3, but the write may still apply later.
    const late: KvOp = { ...put(2, 2, 3, "x", "b"), output: null };
    expectOk([put(1, 0, 1, "x", "a"), late, get(3, 4, 5, "x", "a"), get(3, 10, 11, "x", "b")]);
  });

  it("accepts unknown reads and a history made only of unknown ops", () => {
    expectOk([unknown(get(1, 0, 1, "x", "zzz")), put(2, 2, 3, "x", "a")]);
    expectOk([unknown(put(1, 0, 1, "x", "a")), unknown(cas(2, 0, 1, "x", "q", "r", true))]);
  });

  it("checks keys independently", () => {
    expectOk([
      put(1, 0, 10, "x", "a"),
      put(2, 0, 10, "y", "b"),
      get(1, 11, 12, "y", "b"),
      get(2, 11, 12, "x", "a"),
      get(3, 13, 14, "z", undefined),
    ]);
  });

  it("does not depend on the order of the input array", () => {
    const ops = [put(0, 0, 100, "r", "100"), get(1, 25, 75, "r", "100"), get(2, 30, 60, "r", undefined)];
    expectOk([...ops].reverse());
  });
});

describe("checkLinearizable / kvModel: histories that must be rejected", () => {
  it("rejects a stale read after a completed write", () => {
    expectIllegal([put(1, 0, 10, "x", "a"), put(1, 20, 30, "x", "b"), get(2, 40, 50, "x", "a")]);
  });

  it("rejects a read of a value never written", () => {
    expectIllegal([put(1, 0, 10, "x", "a"), get(2, 20, 30, "x", "b")]);
    expectIllegal([get(2, 0, 1, "x", "")]);
  });

  it("rejects a read of absent after a completed write", () => {
    expectIllegal([put(1, 0, 10, "x", "a"), get(2, 20, 30, "x", undefined)]);
  });

  it("rejects two sequential reads seeing new then old", () => {
    expectIllegal([
      put(1, 0, 10, "x", "a"),
      put(1, 15, 100, "x", "b"),
      get(2, 20, 30, "x", "b"),
      get(2, 40, 50, "x", "a"),
    ]);
  });

  it("rejects new-then-old across different readers (no real-time overlap)", () => {
    expectIllegal([
      put(1, 0, 10, "x", "a"),
      put(1, 15, 100, "x", "b"),
      get(2, 20, 30, "x", "b"),
      get(3, 31, 50, "x", "a"),
    ]);
  });

  it("rejects a read that sees a write which started after the read returned", () => {
    expectIllegal([get(1, 0, 10, "x", "a"), put(2, 20, 30, "x", "a")]);
  });

  it("rejects a lost cas", () => {
    expectIllegal([put(1, 0, 10, "x", "a"), cas(2, 20, 30, "x", "a", "b", true), get(3, 40, 50, "x", "a")]);
  });

  it("rejects two cas that both succeed from the same value", () => {
    expectIllegal([
      put(1, 0, 1, "x", "a"),
      cas(1, 2, 10, "x", "a", "b", true),
      cas(2, 3, 9, "x", "a", "c", true),
    ]);
  });

  it("rejects a cas that failed although the value matched", () => {
    expectIllegal([put(1, 0, 10, "x", "a"), cas(2, 20, 30, "x", "a", "b", false)]);
  });

  it("rejects a cas that succeeded on a value that was never there", () => {
    expectIllegal([put(1, 0, 10, "x", "a"), cas(2, 20, 30, "x", "zzz", "b", true)]);
  });

  it("rejects Porcupine's non-linearizable register example (MIT 6.824 2017 quiz 2, VII)", () => {
    expectIllegal([put(0, 0, 100, "r", "200"), get(1, 10, 30, "r", "200"), get(2, 40, 90, "r", undefined)]);
  });

  it("rejects Porcupine's non-linearizable zero-duration example", () => {
    expectIllegal([
      put(0, 0, 100, "r", "200"),
      get(1, 10, 10, "r", "200"),
      get(2, 10, 10, "r", "200"),
      get(3, 40, 90, "r", undefined),
    ]);
  });

  it("does not let an unknown op take effect before its call", () => {
    expectIllegal([get(1, 0, 10, "x", "b"), unknown(put(2, 20, 30, "x", "b"))]);
  });

  it("does not let an unknown write that was observed be undone", () => {
    expectIllegal([
      put(1, 0, 10, "x", "a"),
      unknown(put(2, 20, 30, "x", "b")),
      get(3, 30, 40, "x", "b"),
      get(3, 50, 60, "x", "a"),
    ]);
  });

  it("rejects a violation on one key among healthy keys and names that key", () => {
    const info = expectIllegal([
      put(1, 0, 10, "a", "1"),
      get(2, 20, 30, "a", "1"),
      put(1, 0, 10, "y", "old"),
      put(1, 20, 30, "y", "new"),
      get(2, 40, 50, "y", "old"),
      put(3, 0, 10, "z", "1"),
    ]);
    expect(info).toContain('key "y"');
    expect(info).toContain("partition 2 of 3");
    expect(info).not.toContain('key "a"');
  });
});

describe("failure report", () => {
  it("shows the longest linearizable prefix, the state and why the candidate fails", () => {
    const info = expectIllegal([put(1, 0, 10, "x", "a"), put(1, 20, 30, "x", "b"), get(2, 40, 50, "x", "a")]);
    expect(info).toContain('not linearizable: key "x" (partition 1 of 1, 3 ops)');
    expect(info).toContain("longest linearizable prefix (2 of 3 ops)");
    expect(info).toMatch(/1\. op#0 client 1 \[0, 10\] put\("x", "a"\) -> ok/);
    expect(info).toMatch(/2\. op#1 client 1 \[20, 30\] put\("x", "b"\) -> ok/);
    expect(info).toContain('state after the prefix: "b"');
    expect(info).toContain('op#2 client 2 [40, 50] get("x") -> "a"  <- rejected by the model in this state');
  });

  it("uses indices of the caller's array and marks unknown outcomes", () => {
    const info = expectIllegal([
      put(9, 0, 1, "other", "v"),
      unknown(put(2, 20, 30, "x", "b")),
      get(1, 0, 10, "x", "b"),
    ]);
    expect(info).toContain('op#2 client 1 [0, 10] get("x") -> "b"');
    expect(info).toContain('op#1 client 2 [20, never (unknown outcome)] put("x", "b") -> ? (unknown)');
    expect(info).toContain("(empty: no op can even be linearized first)");
  });

  it("explains pending unknown ops among the candidates", () => {
    const info = expectIllegal([
      put(1, 0, 1, "x", "a"),
      unknown(put(2, 2, 3, "x", "b")),
      unknown(put(4, 2, 3, "x", "c")),
      get(3, 5, 6, "x", "d"),
    ]);
    expect(info).toContain("longest linearizable prefix (2 of 4 ops)");
    expect(info).toContain('get("x") -> "d"  <- rejected by the model in this state');
    expect(info).toContain("? (unknown)  <- unknown outcome: could apply here, but that leads nowhere");
  });

  it("lists every op that could come next with the model's verdict", () => {
    const info = expectIllegal([
      put(1, 0, 1, "x", "a"),
      get(2, 5, 20, "x", "b"),
      cas(3, 5, 20, "x", "zzz", "b", true),
      get(4, 30, 40, "x", "a"),
    ]);
    expect(info).toContain("longest linearizable prefix (1 of 4 ops)");
    expect(info).toContain("candidates to linearize next (called by t=20, the earliest pending response):");
    expect(info).toContain('op#1 client 2 [5, 20] get("x") -> "b"  <- rejected by the model in this state');
    expect(info).toContain(
      'op#2 client 3 [5, 20] cas("x", "zzz" => "b") -> ok  <- rejected by the model in this state',
    );
    // op#3 is called after the earliest pending response, so it cannot be next.
    expect(info).not.toContain('op#3 client 4 [30, 40] get("x") -> "a"  <-');
    expect(info).toContain("ops not in the prefix (3, by call time):");
  });
});

describe("timeout", () => {
  // 24 fully concurrent writes of distinct values followed by an impossible read: the memo holds
  // up to 24 * 2^23 configurations, far beyond any small budget.
  const hard = (key: string): KvOp[] => [
    ...Array.from({ length: 24 }, (_, i) => put(i, 0, 1000, key, `v${i}`)),
    get(99, 2000, 2001, key, "never"),
  ];

  it("reports timeout (not illegal) when the budget runs out", () => {
    const t0 = Date.now();
    const r = checkLinearizable(kvModel, hard("h"), { timeoutMs: 50 });
    expect(r.result).toBe("timeout");
    expect(r.ok).toBe(false);
    expect(r.info).toContain('key "h"');
    expect(r.info).toContain("timed out");
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("still finds an illegal partition after another one timed out", () => {
    const ops = [...hard("a-hard"), put(1, 0, 1, "b-bad", "x"), get(2, 5, 6, "b-bad", "y")];
    const r = checkLinearizable(kvModel, ops, { timeoutMs: 100 });
    expect(r.result).toBe("illegal");
    expect(r.info).toContain('key "b-bad"');
  });
});

describe("input validation", () => {
  it("throws on an op that returns before it is called", () => {
    expect(() => check([put(1, 10, 5, "x", "a")])).toThrow(/returns \(5\) before it is called \(10\)/);
  });

  it("throws on a non-finite call time", () => {
    expect(() => check([put(1, Number.NaN, 5, "x", "a")])).toThrow(/non-finite call time/);
  });
});

describe("a model without hash or partition (FIFO queue)", () => {
  type QIn = { op: "enq"; v: number } | { op: "deq" };
  type QOut = { v: number | null };
  // Array states exercise the equal() path of the memo; no partition means one search.
  const queue: Model<number[], QIn, QOut> = {
    init: () => [],
    step(s, input, output) {
      if (input.op === "enq") return { ok: true, state: [...s, input.v] };
      const head = s[0] ?? null;
      if (output !== null && output.v !== head) return { ok: false, state: s };
      return { ok: true, state: s.slice(1) };
    },
    equal: (a, b) => a.length === b.length && a.every((x, i) => x === b[i]),
  };
  const op = (c: number, call: number, ret: number, input: QIn, output: QOut): Operation<QIn, QOut> => ({
    clientId: c,
    input,
    call,
    return: ret,
    output,
  });

  it("accepts concurrent enqueues dequeued in either order", () => {
    const ops = [
      op(1, 0, 10, { op: "enq", v: 1 }, { v: null }),
      op(2, 0, 10, { op: "enq", v: 2 }, { v: null }),
      op(3, 20, 30, { op: "deq" }, { v: 2 }),
      op(3, 40, 50, { op: "deq" }, { v: 1 }),
      op(3, 60, 70, { op: "deq" }, { v: null }),
    ];
    expect(checkLinearizable(queue, ops).result).toBe("ok");
  });

  it("rejects FIFO violations for sequential enqueues", () => {
    const ops = [
      op(1, 0, 10, { op: "enq", v: 1 }, { v: null }),
      op(1, 11, 20, { op: "enq", v: 2 }, { v: null }),
      op(3, 30, 40, { op: "deq" }, { v: 2 }),
    ];
    const r = checkLinearizable(queue, ops);
    expect(r.result).toBe("illegal");
    // Without describe/partitionName the report falls back to JSON.
    expect(r.info).toContain('{"op":"deq"} -> {"v":2}');
    expect(r.info).toContain("not linearizable: (partition 1 of 1, 3 ops)");
  });
});

describe("kvModel", () => {
  it("partitions by key in sorted key order and drops unknown-outcome reads", () => {
    const ops: Operation<KvInput, KvOutput>[] = [
      put(1, 0, 1, "b", "1"),
      put(1, 0, 1, "a", "1"),
      unknown(get(1, 0, 1, "a", undefined)),
      get(1, 2, 3, "b", "1"),
    ];
    const parts = kvModel.partition!(ops);
    expect(parts.map((p) => p.map((o) => ops.indexOf(o)))).toEqual([[1], [0, 3]]);
  });

  it("distinguishes an empty string from an absent key", () => {
    expectIllegal([put(1, 0, 1, "x", ""), get(1, 2, 3, "x", undefined)]);
    expectIllegal([get(1, 2, 3, "x", "")]);
    expect(kvModel.hash!("")).not.toBe(kvModel.hash!(undefined));
  });
});

describe("unknown outcomes with a model that cannot always apply them (lock)", () => {
  type LIn = { op: "acquire" | "release"; c: number };
  // step fails when the lock is in the wrong state even for unknown outputs, so the only way to
  // accept an unknown acquire of a held lock is to treat it as never having happened.
  const lock: Model<number | null, LIn, { ok: boolean }> = {
    init: () => null,
    step(s, input) {
      if (input.op === "acquire") return s === null ? { ok: true, state: input.c } : { ok: false, state: s };
      return s === input.c ? { ok: true, state: null } : { ok: false, state: s };
    },
    equal: (a, b) => a === b,
  };
  const acq = (c: number, call: number, ret: number, known: boolean): Operation<LIn, { ok: boolean }> => ({
    clientId: c,
    input: { op: "acquire", c },
    call,
    return: known ? ret : Number.POSITIVE_INFINITY,
    output: known ? { ok: true } : null,
  });

  it("leaves out an unknown op that could never have been applied", () => {
    expect(checkLinearizable(lock, [acq(1, 0, 1, true), acq(2, 2, 3, false)]).result).toBe("ok");
  });

  it("still requires every known op", () => {
    expect(checkLinearizable(lock, [acq(1, 0, 1, true), acq(2, 2, 3, true)]).result).toBe("illegal");
  });
});
