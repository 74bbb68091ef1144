// Linearizability checking in the style of Porcupine: the Wing & Gong search with Lowe's
// memoization (a configuration = set of linearized ops + model state is explored at most once)
// and Horn & Kroening's P-compositionality (each partition, e.g. each key, is checked on its own).
// Reimplemented from the papers; no code is taken from Porcupine.

import { formatIllegal, formatTimeout } from "./format";
import type { CheckOptions, CheckResult, Model, Operation } from "./types";

/** One call or return event in the doubly linked event list that the search walks. */
interface Entry {
  readonly isCall: boolean;
  /** Index of the op within its partition. */
  readonly id: number;
  readonly time: number;
  prev: Entry | null;
  next: Entry | null;
  /** For a call entry: its return entry. Null for return entries. */
  match: Entry | null;
}

/** A memoized configuration: which ops were linearized and the model state that resulted. */
interface MemoEntry<S> {
  bits: Uint32Array;
  state: S;
}

/** Outcome of searching one partition. */
export type PartitionOutcome =
  | { kind: "ok" }
  | { kind: "illegal"; longest: number[] }
  | { kind: "timeout"; longest: number[] };

/** Effective return time: an unknown outcome may take effect at any point after the call. */
function effectiveReturn<I, O>(op: Operation<I, O>): number {
  return op.output === null ? Number.POSITIVE_INFINITY : op.return;
}

function validate<I, O>(ops: Operation<I, O>[]): void {
  ops.forEach((op, i) => {
    if (!Number.isFinite(op.call))
      throw new Error(`lincheck: op #${i} has a non-finite call time ${op.call}`);
    const ret = effectiveReturn(op);
    if (Number.isNaN(ret) || ret < op.call) {
      throw new Error(`lincheck: op #${i} returns (${op.return}) before it is called (${op.call})`);
    }
  });
}

/**
 * Builds the event list sorted by time. At equal times calls go before returns, so an op that
 * returns at t and one called at t count as concurrent: timestamps from a virtual clock often
 * collide and we must not invent a real-time order the recorder did not observe.
 */
function buildList<I, O>(ops: Operation<I, O>[]): Entry {
  const entries: Entry[] = [];
  ops.forEach((op, id) => {
    const ret: Entry = { isCall: false, id, time: effectiveReturn(op), prev: null, next: null, match: null };
    entries.push({ isCall: true, id, time: op.call, prev: null, next: null, match: ret }, ret);
  });
  entries.sort((a, b) => {
    if (a.time !== b.time) return a.time < b.time ? -1 : 1;
    if (a.isCall !== b.isCall) return a.isCall ? -1 : 1;
    return a.id - b.id;
  });
  const head: Entry = {
    isCall: false,
    id: -1,
    time: Number.NEGATIVE_INFINITY,
    prev: null,
    next: null,
    match: null,
  };
  let prev = head;
  for (const e of entries) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }
  return head;
}

/** Unlinks a call entry and its return entry (dancing links: the entries keep their own pointers). */
function lift(call: Entry): void {
  const ret = call.match!;
  call.prev!.next = call.next;
  // A call always has at least its own return after it, so call.next is non-null.
  call.next!.prev = call.prev;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

/** Reverses lift; must be applied in exact reverse order of the lifts. */
function unlift(call: Entry): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  call.next!.prev = call;
}

/** Deterministic xorshift so Zobrist keys (and hence search order) are the same on every run. */
function zobristTable(n: number, seed: number, mask: number): Uint32Array {
  const t = new Uint32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    t[i] = (x >>> 0) & mask;
  }
  return t;
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Searches one partition for a linearization. Returns the longest linearizable prefix found
 * (op indices within `ops`) when there is none, for the failure report.
 */
export function searchPartition<S, I, O>(
  model: Model<S, I, O>,
  ops: Operation<I, O>[],
  deadline: number | undefined,
): PartitionOutcome {
  const n = ops.length;
  // Unknown-outcome ops are optional: the search succeeds once every op with a known outcome is
  // linearized, whatever happened to the unknown ones. This encodes "may never have happened"
  // without asking the model to accept arbitrary outputs.
  let remainingKnown = 0;
  for (const op of ops) if (op.output !== null) remainingKnown++;
  if (remainingKnown === 0) return { kind: "ok" };

  const head = buildList(ops);
  const bits = new Uint32Array((n + 31) >>> 5);
  // Incremental Zobrist hash of `bits` (53 bits across two words) so each step costs O(1) to key
  // the memo; exact bitsets are still compared inside a bucket.
  const z1 = zobristTable(n, 0x9e3779b9, 0xffffffff);
  const z2 = zobristTable(n, 0x85ebca6b, 0x1fffff);
  let h1 = 0;
  let h2 = 0;
  const memo = new Map<number | string, MemoEntry<S>[]>();
  const hashState = model.hash?.bind(model);

  const toggle = (id: number): void => {
    bits[id >>> 5]! ^= 1 << (id & 31);
    h1 = (h1 ^ z1[id]!) >>> 0;
    h2 ^= z2[id]!;
  };
  /** Records the current (bits, state) configuration; false if it was already explored. */
  const remember = (state: S): boolean => {
    const bitsKey = h2 * 0x100000000 + h1;
    const key = hashState ? `${bitsKey}:${hashState(state)}` : bitsKey;
    let bucket = memo.get(key);
    if (!bucket) {
      bucket = [];
      memo.set(key, bucket);
    }
    for (const e of bucket) {
      if (sameBits(e.bits, bits) && (hashState !== undefined || model.equal(e.state, state))) return false;
    }
    bucket.push({ bits: bits.slice(), state });
    return true;
  };

  // Each frame: the call entry linearized and the state just before it.
  const stack: { entry: Entry; state: S }[] = [];
  let longest: number[] = [];
  let state = model.init();
  let entry = head.next;
  let iterations = 0;

  for (;;) {
    if (deadline !== undefined && (++iterations & 1023) === 0 && Date.now() > deadline) {
      return {
        kind: "timeout",
        longest: longest.length >= stack.length ? longest : stack.map((f) => f.entry.id),
      };
    }
    if (entry?.isCall) {
      const op = ops[entry.id]!;
      const r = model.step(state, op.input, op.output);
      if (r.ok) {
        toggle(entry.id);
        if (remember(r.state)) {
          stack.push({ entry, state });
          state = r.state;
          lift(entry);
          if (op.output !== null && --remainingKnown === 0) return { kind: "ok" };
          entry = head.next;
          continue;
        }
        toggle(entry.id);
      }
      entry = entry.next;
      continue;
    }
    // A return entry (or the end of the list): the op it belongs to cannot be postponed past this
    // point and nothing before it could be linearized, so undo the most recent choice.
    const top = stack.pop();
    if (top === undefined) return { kind: "illegal", longest };
    if (stack.length + 1 > longest.length) longest = [...stack.map((f) => f.entry.id), top.entry.id];
    state = top.state;
    toggle(top.entry.id);
    unlift(top.entry);
    if (ops[top.entry.id]!.output !== null) remainingKnown++;
    entry = top.entry.next;
  }
}

/**
 * Checks a history against a sequential model. Partitions (if the model has them) are checked
 * one by one; the first illegal partition decides the result. A timeout in one partition does not
 * hide an illegal verdict in another: the wall-clock budget is shared out so later partitions
 * still get their turn.
 */
export function checkLinearizable<S, I, O>(
  model: Model<S, I, O>,
  ops: Operation<I, O>[],
  opts: CheckOptions = {},
): CheckResult {
  validate(ops);
  const parts = model.partition ? model.partition(ops) : [ops];
  const indexOf = new Map<Operation<I, O>, number>();
  ops.forEach((op, i) => {
    indexOf.set(op, i);
  });
  const budget = opts.timeoutMs !== undefined && opts.timeoutMs > 0 ? opts.timeoutMs : undefined;
  const start = Date.now();
  let timeoutInfo: string | undefined;

  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!;
    let deadline: number | undefined;
    if (budget !== undefined) {
      // Fair share of what is left, so one pathological partition cannot starve the rest.
      const now = Date.now();
      deadline = now + Math.max(0, start + budget - now) / (parts.length - p);
    }
    const outcome = searchPartition(model, part, deadline);
    if (outcome.kind === "illegal") {
      return {
        ok: false,
        result: "illegal",
        info: formatIllegal(model, part, p, parts.length, outcome.longest, indexOf),
      };
    }
    if (outcome.kind === "timeout" && timeoutInfo === undefined) {
      timeoutInfo = formatTimeout(model, part, p, parts.length, outcome.longest, budget ?? 0);
    }
  }
  if (timeoutInfo !== undefined) return { ok: false, result: "timeout", info: timeoutInfo };
  return { ok: true, result: "ok" };
}
