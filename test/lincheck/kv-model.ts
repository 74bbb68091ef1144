import type { KvInput, KvOutput, Model, Operation } from "./types";

/** State of one key's register: its value, or undefined while the key is absent. */
export type KvState = string | undefined;

function q(s: string | undefined): string {
  return s === undefined ? "(absent)" : JSON.stringify(s);
}

/**
 * Per-key register, partitioned by key (P-compositionality: a history is linearizable iff each
 * key's sub-history is, because ops touch a single key).
 *
 * - put(key, value): always legal (its output carries no information), state := value.
 * - get(key): legal iff output.value equals the register (undefined = absent); `ok` is not consulted.
 * - cas(key, expected, value): output.ok true requires register === expected and sets it to value;
 *   ok false requires register !== expected and leaves it. expected undefined means "key absent".
 * - output null (unknown): the effect the op would have had; the checker may also leave it out.
 *
 * Recorders should drop ops that definitely failed without effect (e.g. rejected before being
 * proposed) and record anything uncertain with output null.
 */
export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => undefined,

  step(state, input, output) {
    switch (input.op) {
      case "put":
        return { ok: true, state: input.value };
      case "get":
        return { ok: output === null || output.value === state, state };
      case "cas": {
        const matches = state === input.expected;
        if (output === null) return { ok: true, state: matches ? input.value : state };
        return { ok: output.ok === matches, state: matches ? input.value : state };
      }
      default:
        return { ok: false, state };
    }
  },

  equal: (a, b) => a === b,

  // "=" prefix keeps the empty string distinct from an absent key.
  hash: (s) => (s === undefined ? "" : `=${s}`),

  partition(ops) {
    const byKey = new Map<string, Operation<KvInput, KvOutput>[]>();
    for (const op of ops) {
      // A get whose outcome is unknown constrains nothing; dropping it keeps the search from
      // doubling its configurations for every timed-out read.
      if (op.input.op === "get" && op.output === null) continue;
      let list = byKey.get(op.input.key);
      if (!list) {
        list = [];
        byKey.set(op.input.key, list);
      }
      list.push(op);
    }
    return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
  },

  partitionName: (ops) => `key ${ops[0] ? JSON.stringify(ops[0].input.key) : "(none)"}`,

  describe(input, output) {
    const res = (s: string) => (output === null ? "? (unknown)" : s);
    switch (input.op) {
      case "put":
        return `put(${q(input.key)}, ${q(input.value)}) -> ${res("ok")}`;
      case "get":
        return `get(${q(input.key)}) -> ${res(q(output?.value))}`;
      case "cas":
        return `cas(${q(input.key)}, ${q(input.expected)} => ${q(input.value)}) -> ${res(output?.ok ? "ok" : "failed")}`;
      default:
        return JSON.stringify(input);
    }
  },
};
