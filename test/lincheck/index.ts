// Public entry point of the linearizability checker; the Raft simulator imports from here.

/** Checker entry point: Wing & Gong / Lowe search with memoization, partitioned per model.partition. */
export { checkLinearizable } from "./checker";
/** Failure-report helper, exported for tools that print model states. */
export { formatState } from "./format";
/** Per-key register model for put/get/cas histories, partitioned by key. */
export { type KvState, kvModel } from "./kv-model";
/** History, model and result types. */
export type { CheckOptions, CheckResult, KvInput, KvOutput, Model, Operation } from "./types";
