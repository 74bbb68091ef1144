// Failure reports. The goal is that a failing simulator seed can be debugged from the message
// alone: which partition (key), the longest prefix that does linearize, the state it leaves, and
// for each op that could come next, whether the model rejects it outright or it only leads to a
// dead end further on.

import type { Model, Operation } from "./types";

/** Caps keep a report readable for long partitions; the tail of the prefix is the interesting part. */
const MAX_PREFIX_LINES = 25;
const MAX_REMAINING_LINES = 40;
const MAX_CANDIDATE_LINES = 30;

function fmtTime(t: number): string {
  return t === Number.POSITIVE_INFINITY ? "never" : String(t);
}

/** Renders a model state; JSON where possible since states are usually plain data. */
export function formatState(state: unknown): string {
  if (state === undefined) return "(absent)";
  try {
    const s = JSON.stringify(state);
    if (s !== undefined) return s;
  } catch {
    // Cyclic or BigInt state: fall back to String below.
  }
  return String(state);
}

function describeOp<S, I, O>(model: Model<S, I, O>, op: Operation<I, O>): string {
  if (model.describe) return model.describe(op.input, op.output);
  return `${formatState(op.input)} -> ${op.output === null ? "?" : formatState(op.output)}`;
}

function opLine<S, I, O>(
  model: Model<S, I, O>,
  op: Operation<I, O>,
  indexOf: Map<Operation<I, O>, number>,
): string {
  const idx = indexOf.get(op);
  const ret = op.output === null ? "never (unknown outcome)" : fmtTime(op.return);
  return `op#${idx ?? "?"} client ${op.clientId} [${op.call}, ${ret}] ${describeOp(model, op)}`;
}

function partitionLabel<S, I, O>(
  model: Model<S, I, O>,
  part: Operation<I, O>[],
  p: number,
  count: number,
): string {
  const name = model.partitionName ? `${model.partitionName(part)} ` : "";
  return `${name}(partition ${p + 1} of ${count}, ${part.length} ops)`;
}

function prefixLines<S, I, O>(
  model: Model<S, I, O>,
  part: Operation<I, O>[],
  longest: number[],
  indexOf: Map<Operation<I, O>, number>,
): string[] {
  const lines: string[] = [];
  const skip = Math.max(0, longest.length - MAX_PREFIX_LINES);
  if (skip > 0) lines.push(`  ... ${skip} earlier ops elided`);
  for (let i = skip; i < longest.length; i++) {
    lines.push(`  ${String(i + 1).padStart(3)}. ${opLine(model, part[longest[i]!]!, indexOf)}`);
  }
  return lines;
}

/** Replays the prefix through the model; it was legal during the search, so every step is ok. */
function stateAfter<S, I, O>(model: Model<S, I, O>, part: Operation<I, O>[], longest: number[]): S {
  let state = model.init();
  for (const id of longest) {
    const op = part[id]!;
    state = model.step(state, op.input, op.output).state;
  }
  return state;
}

/** Explains an illegal partition: the longest linearizable prefix and why nothing can follow it. */
export function formatIllegal<S, I, O>(
  model: Model<S, I, O>,
  part: Operation<I, O>[],
  p: number,
  count: number,
  longest: number[],
  indexOf: Map<Operation<I, O>, number>,
): string {
  const state = stateAfter(model, part, longest);
  const done = new Set(longest);
  const rest = part.map((op, id) => ({ op, id })).filter((x) => !done.has(x.id));
  rest.sort((a, b) => a.op.call - b.op.call || a.id - b.id);
  // Ops that could be linearized right after the prefix: called no later than the earliest
  // remaining response (known outcomes only; unknown ones never force anything).
  let firstReturn = Number.POSITIVE_INFINITY;
  for (const { op } of rest) if (op.output !== null && op.return < firstReturn) firstReturn = op.return;

  const lines = [
    `not linearizable: ${partitionLabel(model, part, p, count)}`,
    `longest linearizable prefix (${longest.length} of ${part.length} ops):`,
    ...(longest.length === 0 ? ["  (empty: no op can even be linearized first)"] : []),
    ...prefixLines(model, part, longest, indexOf),
    `state after the prefix: ${formatState(state)}`,
    `candidates to linearize next (called by t=${fmtTime(firstReturn)}, the earliest pending response):`,
  ];
  const candidates = rest.filter(({ op }) => op.call <= firstReturn);
  for (const { op } of candidates.slice(0, MAX_CANDIDATE_LINES)) {
    let verdict: string;
    if (!model.step(state, op.input, op.output).ok) verdict = "rejected by the model in this state";
    else if (op.output === null) verdict = "unknown outcome: could apply here, but that leads nowhere";
    // Unreachable for a known op after an exhaustive search with a pure step (prefix + op would
    // be longer); kept so an impure model still yields a readable report.
    else verdict = "legal here, yet the search found no continuation (is model.step pure?)";
    lines.push(`  ${opLine(model, op, indexOf)}  <- ${verdict}`);
  }
  if (candidates.length > MAX_CANDIDATE_LINES) {
    lines.push(`  ... ${candidates.length - MAX_CANDIDATE_LINES} more`);
  }
  lines.push(`ops not in the prefix (${rest.length}, by call time):`);
  for (const { op } of rest.slice(0, MAX_REMAINING_LINES)) lines.push(`  ${opLine(model, op, indexOf)}`);
  if (rest.length > MAX_REMAINING_LINES) lines.push(`  ... ${rest.length - MAX_REMAINING_LINES} more`);
  return lines.join("\n");
}

/** Explains a timeout: which partition ran out of budget and how far the search got. */
export function formatTimeout<S, I, O>(
  model: Model<S, I, O>,
  part: Operation<I, O>[],
  p: number,
  count: number,
  longest: number[],
  budgetMs: number,
): string {
  const unknown = part.filter((op) => op.output === null).length;
  return [
    `search timed out (budget ${budgetMs} ms) in ${partitionLabel(model, part, p, count)}`,
    `${unknown} ops with unknown outcome (each one widens the search); deepest prefix reached: ${longest.length} ops`,
  ].join("\n");
}
