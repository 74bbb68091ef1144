import { AppError, isAppError } from "../../shared";
import { type RestoredJob, validateRestoredJob } from "./validate-job";

/** One job of a backup, in the order POST /v1/restore writes it. */
export interface RestoreStep {
  /** The job's name, or `file[<index>]` when the entry has none. */
  label: string;
  /** What to store; absent when Dkron would refuse the job too (then `error` says why). */
  job?: RestoredJob;
  error?: string;
  /** The step (an index into the plan) of this job's parent, when the parent is in the same file. */
  after?: number;
}

/**
 * Validates a backup and orders it as Dkron's restore does (`generateJobTree`, `recursiveSetJob`):
 * each top-level job in file order, followed depth-first by its children in file order, so a parent
 * is always written before its children. A job whose parent is not in the file is top-level (the
 * state machine then finds its parent among the stored jobs, or refuses it). A job that fails
 * Dkron's own checks stays in the plan with its `error`; jobs whose parents form a cycle come last,
 * each with an error. Throws AppError VALIDATION, naming the entry, when the file is not a JSON
 * array of objects: such a file is refused whole, before anything is written.
 */
export function planRestore(input: unknown): RestoreStep[] {
  if (!Array.isArray(input)) {
    throw new AppError("VALIDATION", "file: expected a JSON array of jobs", { field: "file" });
  }
  const entries = input.map((body, i): RestoreStep & { name: string; parent: string } => {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new AppError("VALIDATION", `file[${i}]: expected a job object, got ${describe(body)}`, {
        field: `file[${i}]`,
      });
    }
    const raw = body as { name?: unknown; parent_job?: unknown };
    const name = typeof raw.name === "string" ? raw.name : "";
    const label = name || `file[${i}]`;
    try {
      const job = validateRestoredJob(body);
      return { label, job, name, parent: job.spec.parent_job };
    } catch (e) {
      if (!isAppError(e)) throw e;
      const parent = typeof raw.parent_job === "string" ? raw.parent_job : "";
      return { label, error: e.message.replace(/^job: /, ""), name, parent };
    }
  });

  // A parent named twice in the file is its first entry (later ones replace it, as in Dkron).
  const firstByName = new Map<string, number>();
  entries.forEach((e, i) => {
    if (e.name && !firstByName.has(e.name)) firstByName.set(e.name, i);
  });
  const parentOf = (i: number): number | undefined => {
    const p = entries[i]!.parent;
    return p && p !== entries[i]!.name ? firstByName.get(p) : undefined;
  };
  const children = entries.map(() => [] as number[]);
  entries.forEach((_, i) => {
    const p = parentOf(i);
    if (p !== undefined) children[p]!.push(i);
  });

  const plan: RestoreStep[] = [];
  const placed = new Set<number>();
  const place = (i: number, after: number | undefined) => {
    placed.add(i);
    const { name: _n, parent: _p, ...step } = entries[i]!;
    const at = plan.push(after === undefined ? step : { ...step, after }) - 1;
    for (const c of children[i]!) place(c, at);
  };
  entries.forEach((_, i) => {
    if (parentOf(i) === undefined) place(i, undefined);
  });
  entries.forEach((e, i) => {
    if (!placed.has(i)) {
      plan.push({ label: e.label, error: `parent_job: "${e.parent}" leads to a dependency cycle` });
    }
  });
  return plan;
}

/**
 * Dkron's result string for one restored job: `success create <name>`, with what this build
 * dislikes appended as ` (warning: a; b)`, or `fail create <name>: <reason>`.
 */
export function restoreResult(label: string, outcome: { warnings: string[] } | { error: string }): string {
  if ("error" in outcome) return `fail create ${label}: ${outcome.error}`;
  return outcome.warnings.length
    ? `success create ${label} (warning: ${outcome.warnings.join("; ")})`
    : `success create ${label}`;
}

function describe(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "an array" : typeof v;
}
