/**
 * The figures a bench stands behind, in one shape: what was measured, ours, the same-run baseline,
 * their ratio and the target it is held to. Each bench prints its own table through `reportFigures`;
 * under `npm run bench` (bench/run-all.ts sets BENCH_REPORT to a file) the rows are also appended there
 * as JSON lines, and run-all prints every bench's rows as one table and writes them as JSON.
 */
import { appendFileSync } from "node:fs";

/** What a figure is held to: an upper or lower bound on ours, or on ours / baseline. */
export type Target =
  | { max: number }
  | { min: number }
  | { maxRatio: number }
  | { minRatio: number }
  | { note: string };

/** One measured figure. `unit` applies to ours and the baseline alike. */
export interface Figure {
  figure: string;
  ours: number;
  unit: string;
  /** The same-run baseline (omit when a figure has none, e.g. an RSS). */
  baseline?: number;
  /** What the baseline is ("bare setTimeout + fetch"). */
  baselineWhat?: string;
  target?: Target;
  /** How to reproduce this line (the command). */
  reproduce?: string;
}

/** A figure with its bench, ratio and verdict, as written to JSON. */
export interface FigureRow extends Figure {
  bench: string;
  ratio: number | null;
  targetText: string;
  /** true/false against the target; null when there is no numeric target. */
  met: boolean | null;
}

/** "≤ 50 ms", "≥ 1000 jobs/s", "≤ 1.25× baseline". */
export function targetText(t: Target | undefined, unit: string): string {
  if (!t) return "";
  if ("max" in t) return `≤ ${fmt(t.max)} ${unit}`;
  if ("min" in t) return `≥ ${fmt(t.min)} ${unit}`;
  if ("maxRatio" in t) return `≤ ${t.maxRatio}× baseline`;
  if ("minRatio" in t) return `≥ ${t.minRatio}× baseline`;
  return t.note;
}

/** Whether `f` meets its target (null when it has none, or the target needs a missing baseline). */
export function meets(f: Figure): boolean | null {
  const t = f.target;
  if (!t || "note" in t) return null;
  // A figure that could not be measured (a failover that never elected, a run that never ended) misses.
  if (!Number.isFinite(f.ours)) return false;
  if ("max" in t) return f.ours <= t.max;
  if ("min" in t) return f.ours >= t.min;
  const r = ratioOf(f);
  if (r === null) return null;
  return "maxRatio" in t ? r <= t.maxRatio : r >= t.minRatio;
}

function ratioOf(f: Figure): number | null {
  return f.baseline !== undefined && f.baseline > 0 && Number.isFinite(f.baseline)
    ? f.ours / f.baseline
    : null;
}

/** The row a figure makes. */
export function toRow(bench: string, f: Figure): FigureRow {
  return { ...f, bench, ratio: ratioOf(f), targetText: targetText(f.target, f.unit), met: meets(f) };
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  return a >= 1000
    ? Math.round(n).toLocaleString("en-US")
    : a >= 100
      ? n.toFixed(0)
      : a >= 10
        ? n.toFixed(1)
        : n.toFixed(2);
}

/** Rows as an aligned text table: figure, ours, baseline, ratio, target, met. */
export function formatTable(rows: readonly FigureRow[], withBench = false): string {
  const head = [...(withBench ? ["bench"] : []), "figure", "ours", "baseline", "ratio", "target", ""];
  const body = rows.map((r) => [
    ...(withBench ? [r.bench] : []),
    r.figure,
    `${fmt(r.ours)} ${r.unit}`,
    r.baseline === undefined
      ? ""
      : `${fmt(r.baseline)} ${r.unit}${r.baselineWhat ? ` (${r.baselineWhat})` : ""}`,
    r.ratio === null ? "" : `${r.ratio.toFixed(2)}×`,
    r.targetText,
    r.met === null ? "" : r.met ? "met" : "NOT MET",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

/** Prints a bench's figures as a table and, under run-all, appends them to BENCH_REPORT as JSON lines. */
export function reportFigures(bench: string, figures: readonly Figure[]): FigureRow[] {
  const rows = figures.map((f) => toRow(bench, f));
  process.stdout.write(`\n${formatTable(rows)}\n`);
  const file = process.env.BENCH_REPORT;
  if (file) appendFileSync(file, rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
  return rows;
}
