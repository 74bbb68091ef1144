import { describe, expect, it } from "vitest";
import { checkLinearizable, kvModel } from "./index";
import {
  bruteForceLinearizable,
  definitelyWrote,
  type GenOptions,
  generateHistory,
  type KvOp,
  prng,
  randomTinyHistory,
  unknown,
} from "./testkit";

const small: GenOptions = {
  clients: 4,
  opsPerClient: 15,
  keys: 3,
  getRate: 0.45,
  casRate: 0.25,
  unknownRate: 0.1,
  maxLatency: 8,
};

type Rng = ReturnType<typeof prng>;
type Corruption = (ops: KvOp[], rng: Rng) => { mutated: KvOp; why: string } | null;

const knownGets = (ops: KvOp[]) => ops.filter((o) => o.input.op === "get" && o.output !== null);

/**
 * Corruptions of a real execution that are illegal under every interleaving, relying on every
 * written value being unique and no op ever deleting a key.
 */
const corruptions: Record<string, Corruption> = {
  "read of a value never written": (ops, rng) => {
    const gets = knownGets(ops);
    if (gets.length === 0) return null;
    const g = rng.pick(gets);
    g.output = { ok: true, value: "never-written" };
    return { mutated: g, why: "no op writes that value" };
  },

  "read of a value whose only write started after the read returned": (ops, rng) => {
    const pairs = knownGets(ops).flatMap((g) =>
      ops
        .filter((w) => w.input.op !== "get" && w.input.key === g.input.key && w.call > g.return)
        .map((w) => ({ g, w })),
    );
    if (pairs.length === 0) return null;
    const { g, w } = rng.pick(pairs);
    g.output = { ok: true, value: w.input.value };
    return { mutated: g, why: "the only writer of the value is called after the read returned" };
  },

  "read of absent after an acknowledged write": (ops, rng) => {
    const gets = knownGets(ops).filter((g) =>
      ops.some((w) => w.input.key === g.input.key && definitelyWrote(w) && w.return < g.call),
    );
    if (gets.length === 0) return null;
    const g = rng.pick(gets);
    g.output = { ok: true, value: undefined };
    return { mutated: g, why: "keys are never deleted" };
  },

  "stale read of a value overwritten before the read began": (ops, rng) => {
    const triples: { g: KvOp; w1: KvOp }[] = [];
    for (const g of knownGets(ops)) {
      const writes = ops.filter((w) => w.input.key === g.input.key && definitelyWrote(w));
      for (const w1 of writes) {
        if (writes.some((w2) => w1.return < w2.call && w2.return < g.call)) triples.push({ g, w1 });
      }
    }
    if (triples.length === 0) return null;
    const { g, w1 } = rng.pick(triples);
    g.output = { ok: true, value: w1.input.value };
    return { mutated: g, why: "w1 < w2 < read in real time and only w1 writes the value" };
  },

  "cas that succeeded on a value never written": (ops, rng) => {
    const cases = ops.filter((o) => o.input.op === "cas" && o.output !== null);
    if (cases.length === 0) return null;
    const c = rng.pick(cases);
    c.input = { ...c.input, expected: "never-written" };
    c.output = { ok: true };
    return { mutated: c, why: "the register never holds the expected value" };
  },
};

describe("randomized: histories of real executions", () => {
  const SEEDS = 300;

  it(`accepts ${SEEDS} generated histories (shuffled input, unknown ops, timestamp ties)`, () => {
    let unknownOps = 0;
    let casOk = 0;
    let casFailed = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const ops = generateHistory(prng(seed), small);
      const r = checkLinearizable(kvModel, ops);
      expect(r.result, `seed ${seed}: ${r.info}`).toBe("ok");
      unknownOps += ops.filter((o) => o.output === null).length;
      casOk += ops.filter((o) => o.input.op === "cas" && o.output?.ok === true).length;
      casFailed += ops.filter((o) => o.input.op === "cas" && o.output?.ok === false).length;
    }
    // The generator must actually exercise the interesting cases.
    expect(unknownOps).toBeGreaterThan(SEEDS);
    expect(casOk).toBeGreaterThan(SEEDS);
    expect(casFailed).toBeGreaterThan(SEEDS);
  });

  for (const [name, corrupt] of Object.entries(corruptions)) {
    it(`rejects every history corrupted by: ${name}`, () => {
      let applied = 0;
      for (let seed = 1; seed <= SEEDS; seed++) {
        const rng = prng(seed * 7919);
        const ops = structuredClone(generateHistory(prng(seed), small));
        const c = corrupt(ops, rng);
        if (c === null) continue;
        applied++;
        const r = checkLinearizable(kvModel, ops);
        expect(r.result, `seed ${seed} (${c.why})`).toBe("illegal");
        expect(r.info).toContain(`key ${JSON.stringify(c.mutated.input.key)}`);
        expect(r.info).toContain(`op#${ops.indexOf(c.mutated)} `);
      }
      expect(applied).toBeGreaterThan(SEEDS / 2);
    });
  }
});

describe("randomized: agreement with a brute-force oracle", () => {
  // Unknown-heavy histories matter most: the search prunes unknown ops (subsumption, useless and
  // overwritten steps), and those rules are only safe if the verdicts still match the oracle.
  it("matches exhaustive search on 6,000 tiny arbitrary histories", () => {
    const rng = prng(42);
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 6000; i++) {
      let ops = randomTinyHistory(rng, 2 + rng.int(7));
      if (i % 2 === 1) ops = ops.map((o) => (rng.next() < 0.3 ? unknown(o) : o));
      const expected = bruteForceLinearizable(ops);
      const r = checkLinearizable(kvModel, ops);
      expect(r.result, JSON.stringify(ops)).toBe(expected ? "ok" : "illegal");
      if (expected) accepted++;
      else rejected++;
    }
    // Both verdicts must be well represented for the comparison to mean anything.
    expect(accepted).toBeGreaterThan(1200);
    expect(rejected).toBeGreaterThan(1200);
  });
});

describe("performance sanity", () => {
  it("checks a 5-client, 2,000-op history over 10 keys", () => {
    const opts: GenOptions = {
      clients: 5,
      opsPerClient: 400,
      keys: 10,
      getRate: 0.5,
      casRate: 0.2,
      unknownRate: 0.03,
      maxLatency: 10,
    };
    const ops = generateHistory(prng(2024), opts);
    expect(ops).toHaveLength(2000);
    const t0 = performance.now();
    const r = checkLinearizable(kvModel, ops, { timeoutMs: 30_000 });
    const ms = performance.now() - t0;
    expect(r.result).toBe("ok");
    // Timing is reported, not asserted: CI machines vary.
    console.info(`lincheck: 2,000 ops / 5 clients / 10 keys checked in ${ms.toFixed(1)} ms`);
  });

  it("checks a single hot key with ~10% unknown outcomes (500 ops)", () => {
    // Timed-out writes stay pending forever and widen the search; this is the hard case for any
    // WGL checker and guards the unknown-op pruning against regressions.
    for (const seed of [1, 2, 3]) {
      const ops = generateHistory(prng(seed), {
        clients: 5,
        opsPerClient: 100,
        keys: 1,
        getRate: 0.5,
        casRate: 0.2,
        unknownRate: 0.1,
        maxLatency: 10,
      });
      const t0 = performance.now();
      const r = checkLinearizable(kvModel, ops, { timeoutMs: 30_000 });
      const ms = performance.now() - t0;
      expect(r.result, `seed ${seed}`).toBe("ok");
      const pending = ops.filter((o) => o.output === null).length;
      console.info(`lincheck: 1 key, 500 ops, ${pending} unknown, seed ${seed}: ${ms.toFixed(1)} ms`);
    }
  });
});
