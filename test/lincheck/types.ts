/** Input of one key-value operation; every op touches exactly one key. */
export interface KvInput {
  op: "put" | "get" | "cas";
  key: string;
  value?: string;
  expected?: string;
}

/** Observed output of a key-value operation; `value` is the read result for get. */
export interface KvOutput {
  ok: boolean;
  value?: string;
}

/** One client operation in a recorded history: its input, its real-time interval and what it returned. */
export interface Operation<I = KvInput, O = KvOutput> {
  clientId: number;
  input: I;
  /** Invocation time (any monotonic number, e.g. virtual ms). */
  call: number;
  /** Response time; Infinity if the operation never returned. */
  return: number;
  /** null = outcome unknown (timed out / crashed client): it may or may not have taken effect. */
  output: O | null;
}

/** A sequential specification the history is checked against. */
export interface Model<S, I, O> {
  /** The state before any operation. */
  init(): S;
  /**
   * Whether applying input to state may produce the observed output, and the state afterwards.
   * output null = unknown: describe the effect the op has if it did take effect; the checker itself
   * handles the "never happened" case by allowing unknown ops to stay unlinearized.
   * Must be pure and deterministic (the search memoizes on its results).
   */
  step(state: S, input: I, output: O | null): { ok: boolean; state: S };
  /** State equality, used by the memo when `hash` is absent. */
  equal(a: S, b: S): boolean;
  /** Optional canonical string for a state; equal states must hash equal. Speeds up the memo. */
  hash?(s: S): string;
  /** Optional P-compositional split (e.g. by key); each part is checked independently. */
  partition?(ops: Operation<I, O>[]): Operation<I, O>[][];
  /** Optional human-readable name for one part, e.g. `key "x"`; used in failure reports. */
  partitionName?(ops: Operation<I, O>[]): string;
  /** Optional human-readable rendering of one operation, used in failure reports. */
  describe?(input: I, output: O | null): string;
}

/** Options for checkLinearizable. */
export interface CheckOptions {
  /** Wall-clock budget for the whole search; 0 or absent = no limit. */
  timeoutMs?: number;
}

/** Verdict of checkLinearizable; `info` explains an illegal or timed-out result. */
export interface CheckResult {
  ok: boolean;
  result: "ok" | "illegal" | "timeout";
  info?: string;
}
