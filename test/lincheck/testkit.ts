// Test-only helpers for the checker's own tests: history builders, a seeded PRNG, a generator of
// histories from a real (simulated) sequential execution, and a brute-force oracle.

import { seededRandom } from "../../control/raft/random";
import type { KvInput, KvOutput, Operation } from "./types";

/** A kv operation as recorded by a client. */
export type KvOp = Operation<KvInput, KvOutput>;

/** put(key, value) by client c over [call, ret], acknowledged. */
export function put(c: number, call: number, ret: number, key: string, value: string): KvOp {
  return { clientId: c, input: { op: "put", key, value }, call, return: ret, output: { ok: true } };
}

/** get(key) by client c over [call, ret] that returned value (undefined = absent). */
export function get(c: number, call: number, ret: number, key: string, value: string | undefined): KvOp {
  return { clientId: c, input: { op: "get", key }, call, return: ret, output: { ok: true, value } };
}

/** cas(key, expected => value) by client c over [call, ret] that returned ok. */
export function cas(
  c: number,
  call: number,
  ret: number,
  key: string,
  expected: string | undefined,
  value: string,
  ok: boolean,
): KvOp {
  return { clientId: c, input: { op: "cas", key, expected, value }, call, return: ret, output: { ok } };
}

/** The same op with an unknown outcome (the client timed out and never learned the result). */
export function unknown(op: KvOp): KvOp {
  return { ...op, return: Number.POSITIVE_INFINITY, output: null };
}

/** The project's seeded PRNG (mulberry32) plus `pick`; tests must be reproducible from the seed alone. */
export function prng(seed: number): { next(): number; int(n: number): number; pick<T>(xs: readonly T[]): T } {
  const r = seededRandom(seed);
  return { next: r.next, int: r.int, pick: (xs) => xs[r.int(xs.length)]! };
}

/** Shape of a generated history. */
export interface GenOptions {
  clients: number;
  opsPerClient: number;
  keys: number;
  getRate: number;
  casRate: number;
  unknownRate: number;
  maxLatency: number;
}

type Rng = ReturnType<typeof prng>;

/**
 * Generates a history of a real sequential execution: every op gets a linearization point inside
 * its interval and the outputs are computed by applying ops in that order to a map. Unknown ops
 * take effect (at a possibly much later point, like a delayed apply) or not at all, each with
 * probability 1/2. Every written value is unique, so corruptions can be proven illegal.
 * The ops come back shuffled: the checker must not depend on input order.
 */
export function generateHistory(rng: Rng, o: GenOptions): KvOp[] {
  interface Pending {
    op: KvOp;
    lp: number;
    takesEffect: boolean;
    tie: number;
  }
  const pending: Pending[] = [];
  let serial = 0;
  for (let c = 0; c < o.clients; c++) {
    let t = rng.int(5);
    for (let j = 0; j < o.opsPerClient; j++) {
      const r = rng.next();
      const kind: KvInput["op"] = r < o.getRate ? "get" : r < o.getRate + o.casRate ? "cas" : "put";
      const key = `k${rng.int(o.keys)}`;
      const call = t;
      let lp = call + rng.int(o.maxLatency + 1);
      const ret = lp + rng.int(o.maxLatency + 1);
      const isUnknown = rng.next() < o.unknownRate;
      let takesEffect = true;
      if (isUnknown) {
        takesEffect = rng.next() < 0.5;
        lp = call + rng.int(5 * o.maxLatency + 1);
      }
      const value = kind === "get" ? undefined : `c${c}v${serial++}`;
      // A recorder typically stores the timeout instant as `return`; the checker must ignore it.
      const op: KvOp = {
        clientId: c,
        input: kind === "get" ? { op: "get", key } : { op: kind, key, value },
        call,
        return: ret,
        output: isUnknown ? null : { ok: true },
      };
      pending.push({ op, lp, takesEffect, tie: rng.next() });
      // Equal times are allowed on purpose: the next call may coincide with this return.
      t = ret + rng.int(3);
    }
  }

  const store = new Map<string, string>();
  const written = new Map<string, string[]>();
  const chooseExpected = (key: string): string | undefined => {
    const r = rng.next();
    const history = written.get(key) ?? [];
    if (r < 0.55) return store.get(key);
    if (r < 0.85 && history.length > 0) return rng.pick(history);
    return r < 0.93 ? undefined : "never-written-expected";
  };
  for (const p of [...pending].sort((a, b) => a.lp - b.lp || a.tie - b.tie)) {
    const { input } = p.op;
    if (input.op === "cas") input.expected = chooseExpected(input.key);
    if (!p.takesEffect) continue;
    const cur = store.get(input.key);
    let out: KvOutput;
    if (input.op === "get") {
      out = { ok: true, value: cur };
    } else if (input.op === "put" || cur === input.expected) {
      store.set(input.key, input.value!);
      written.set(input.key, [...(written.get(input.key) ?? []), input.value!]);
      out = { ok: true };
    } else {
      out = { ok: false };
    }
    if (p.op.output !== null) p.op.output = out;
  }

  const ops = pending.map((p) => p.op);
  for (let i = ops.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [ops[i], ops[j]] = [ops[j]!, ops[i]!];
  }
  return ops;
}

/** True if op definitely wrote its value: an acknowledged put or an acknowledged successful cas. */
export function definitelyWrote(op: KvOp): boolean {
  if (op.output === null) return false;
  return op.input.op === "put" || (op.input.op === "cas" && op.output.ok);
}

/**
 * Exhaustive oracle over the whole multi-key history (no partitioning, own semantics): tries every
 * order consistent with real time (a before b whenever a returned strictly before b was called);
 * ops with unknown outcome may be placed anywhere after their call or left out. Only for tiny n.
 */
export function bruteForceLinearizable(ops: KvOp[]): boolean {
  const n = ops.length;
  const ret = ops.map((op) => (op.output === null ? Number.POSITIVE_INFINITY : op.return));
  const placed = new Array<boolean>(n).fill(false);
  const known = ops.filter((op) => op.output !== null).length;

  const apply = (state: Map<string, string>, op: KvOp): Map<string, string> | null => {
    const { input, output } = op;
    const cur = state.get(input.key);
    const next = new Map(state);
    if (input.op === "put") {
      next.set(input.key, input.value!);
      return next;
    }
    if (input.op === "get") return output === null || output.value === cur ? state : null;
    const hit = cur === input.expected;
    if (output !== null && output.ok !== hit) return null;
    if (hit) next.set(input.key, input.value!);
    return next;
  };

  const dfs = (state: Map<string, string>, placedKnown: number): boolean => {
    if (placedKnown === known) return true;
    for (let a = 0; a < n; a++) {
      if (placed[a]) continue;
      // a can go next only if no unplaced known op must precede it.
      let blocked = false;
      for (let b = 0; b < n && !blocked; b++) {
        if (b !== a && !placed[b] && ops[b]!.output !== null && ret[b]! < ops[a]!.call) blocked = true;
      }
      if (blocked) continue;
      const nextState = apply(state, ops[a]!);
      if (nextState === null) continue;
      placed[a] = true;
      const found = dfs(nextState, placedKnown + (ops[a]!.output === null ? 0 : 1));
      placed[a] = false;
      if (found) return true;
    }
    return false;
  };
  return dfs(new Map(), 0);
}

/** A random tiny history with arbitrary (often impossible) outputs, for the oracle comparison. */
export function randomTinyHistory(rng: Rng, n: number): KvOp[] {
  const vals = ["a", "b"];
  const ops: KvOp[] = [];
  for (let i = 0; i < n; i++) {
    const call = rng.int(10);
    const ret = call + rng.int(6);
    const key = rng.pick(["x", "y"]);
    const c = rng.int(3);
    const r = rng.next();
    let op: KvOp;
    if (r < 0.35) op = put(c, call, ret, key, rng.pick(vals));
    else if (r < 0.75) op = get(c, call, ret, key, rng.pick([undefined, ...vals]));
    else op = cas(c, call, ret, key, rng.pick([undefined, ...vals]), rng.pick(vals), rng.next() < 0.5);
    ops.push(rng.next() < 0.2 ? unknown(op) : op);
  }
  return ops;
}
