// Linearizability checking in the style of Porcupine: the Wing & Gong search with Lowe's
// memoization (a configuration = set of linearized ops + model state is explored at most once)
// and Horn & Kroening's P-compositionality (each partition, e.g. each key, is checked on its own).
//
// Additions for ops with unknown outcome (timed-out writes), which never return and so stay
// candidates for the rest of the history: they are optional (success = every known op
// linearized), tried only after the known candidates, skipped when they would not change the
// state or merely overwrite the unknown op just before them, and a failed configuration also
// rules out every configuration that differs from it only by extra unknown ops (`subsumes`).
// Without these, k pending timed-out writes multiply the search by up to 2^k. All of them are
// checked against an exhaustive oracle in random.test.ts.
//
// model.step must be pure and deterministic: the memo assumes equal (ops, state) behave equally.
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

/** A configuration known to have no successful continuation: linearized ops + resulting state. */
interface MemoEntry<S> {
  bits: Uint32Array;
  state: S;
  /** Interned model.hash of state (0 when the model has no hash). */
  sid: number;
}

/** A search frame: the call entry linearized, and the state and flags of the config before it. */
interface Frame<S> {
  entry: Entry;
  state: S;
  sid: number;
  /** The config before this op skipped a child by the overwrite rule (see the search loop). */
  conditional: boolean;
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

/**
 * True if failed configuration `done` rules out `cur` (same state assumed): both linearized the
 * same known ops and `done` linearized a subset of `cur`'s unknown ops. Any continuation from `cur`
 * is then also a continuation from `done` (the extra unknown ops are optional and impose no
 * real-time order), so `cur` cannot succeed either. With no unknown ops this is plain equality.
 */
function subsumes(done: Uint32Array, cur: Uint32Array, known: Uint32Array): boolean {
  for (let i = 0; i < cur.length; i++) {
    const d = done[i]!;
    const c = cur[i]!;
    if ((d & ~c) !== 0 || (c & ~d & known[i]!) !== 0) return false;
  }
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
  const words = (n + 31) >>> 5;
  const bits = new Uint32Array(words);
  const known = new Uint32Array(words);
  ops.forEach((op, id) => {
    if (op.output !== null) known[id >>> 5]! |= 1 << (id & 31);
  });
  // Incremental Zobrist hash of the known ops in `bits` (53 bits across two words) keys the memo
  // in O(1) per step. Unknown ops are left out of the key so that configurations differing only
  // in optional ops share a bucket, where the subsumption check can see them.
  const z1 = zobristTable(n, 0x9e3779b9, 0xffffffff);
  const z2 = zobristTable(n, 0x85ebca6b, 0x1fffff);
  ops.forEach((op, id) => {
    if (op.output === null) z1[id] = z2[id] = 0;
  });
  let h1 = 0;
  let h2 = 0;
  const toggle = (id: number): void => {
    bits[id >>> 5]! ^= 1 << (id & 31);
    h1 = (h1 ^ z1[id]!) >>> 0;
    h2 ^= z2[id]!;
  };

  // States are interned to small ids through model.hash, so comparing states and keying the memo
  // costs no string building per step. Without a hash every state gets id 0 and equal() decides.
  const hashState = model.hash?.bind(model);
  const interned = new Map<string, number>();
  const sidOf = (s: S): number => {
    if (!hashState) return 0;
    const h = hashState(s);
    let id = interned.get(h);
    if (id === undefined) {
      id = interned.size + 1;
      interned.set(h, id);
    }
    return id;
  };
  const sameState = (a: S, aSid: number, b: S, bSid: number): boolean =>
    hashState ? aSid === bSid : model.equal(a, b);
  const keyOf = (sid: number): number => h2 * 0x100000000 + ((h1 ^ Math.imul(sid, 0x9e3779b1)) >>> 0);

  // Only failed configurations are stored (on backtrack). Lowe's memo also stores configurations
  // still being explored, but the linearized set grows strictly along the search path, so an
  // in-progress configuration can never be reached again anyway.
  const memo = new Map<number, MemoEntry<S>[]>();
  /** Whether (bits, state) is ruled out by a configuration that already failed. */
  const knownToFail = (s: S, sid: number): boolean => {
    const bucket = memo.get(keyOf(sid));
    if (bucket) {
      for (const e of bucket)
        if (subsumes(e.bits, bits, known) && sameState(e.state, e.sid, s, sid)) return true;
    }
    return false;
  };
  /** Records (bits, state) as failed, dropping entries it subsumes to keep buckets short. */
  const recordFailure = (s: S, sid: number): void => {
    const key = keyOf(sid);
    const old = memo.get(key);
    const bucket = old
      ? old.filter((e) => !(subsumes(bits, e.bits, known) && sameState(e.state, e.sid, s, sid)))
      : [];
    bucket.push({ bits: bits.slice(), state: s, sid });
    memo.set(key, bucket);
  };

  const stack: Frame<S>[] = [];
  let longest: number[] = [];
  let state = model.init();
  let sid = sidOf(state);
  // Whether the current config skipped a child by the overwrite rule; its failure then proves
  // nothing on its own and must not enter the memo.
  let conditional = false;
  let entry = head.next;
  // Candidates are the calls before the first return entry. Known ops are tried first and unknown
  // ops only after them (a second pass over the same window): an unknown op stays available until
  // the end, so placing it just in time, right before the op that observes its effect, loses
  // nothing, while placing it eagerly sends the search down dead ends first.
  let unknownPass = false;
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
      if ((op.output === null) === unknownPass) {
        const r = model.step(state, op.input, op.output);
        let skip = !r.ok;
        let nextSid = 0;
        if (!skip) {
          nextSid = sidOf(r.state);
          // Pruning of unknown ops, both sound because a shortest successful linearization never
          // contains these patterns (the unknown op involved could be dropped from it):
          // - useless: the op would leave the state unchanged;
          // - overwrite: the previous step was unknown op p and this op yields the same state
          //   whether or not p ran, so "p, op" is covered by trying op instead of p one level up.
          //   That covering happens in the parent, so this config is marked conditional.
          if (unknownPass && sameState(r.state, nextSid, state, sid)) {
            skip = true;
          } else if (unknownPass) {
            const prev = stack[stack.length - 1];
            if (prev && ops[prev.entry.id]!.output === null) {
              const r0 = model.step(prev.state, op.input, op.output);
              if (r0.ok && sameState(r0.state, sidOf(r0.state), r.state, nextSid)) {
                skip = true;
                conditional = true;
              }
            }
          }
        }
        if (!skip) {
          toggle(entry.id);
          if (!knownToFail(r.state, nextSid)) {
            stack.push({ entry, state, sid, conditional });
            state = r.state;
            sid = nextSid;
            conditional = false;
            lift(entry);
            if (op.output !== null && --remainingKnown === 0) return { kind: "ok" };
            entry = head.next;
            unknownPass = false;
            continue;
          }
          toggle(entry.id);
        }
      }
      entry = entry.next;
      continue;
    }
    // End of the candidate window: a return entry (or the end of the list).
    if (!unknownPass) {
      unknownPass = true;
      entry = head.next;
      continue;
    }
    // The op owning that return cannot be postponed past it and no candidate worked, so undo
    // the most recent choice and resume the scan after it, in the pass it belonged to.
    const top = stack.pop();
    if (top === undefined) return { kind: "illegal", longest };
    if (stack.length + 1 > longest.length) longest = [...stack.map((f) => f.entry.id), top.entry.id];
    if (!conditional) recordFailure(state, sid);
    state = top.state;
    sid = top.sid;
    conditional = top.conditional;
    toggle(top.entry.id);
    unlift(top.entry);
    const topKnown = ops[top.entry.id]!.output !== null;
    if (topKnown) remainingKnown++;
    unknownPass = !topKnown;
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
