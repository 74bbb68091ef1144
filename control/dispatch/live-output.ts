import { droppedOutputNote, type Result } from "../../shared";

/** Bytes of live output kept per running execution (the same tail the runner keeps). */
export const LIVE_TAIL_BYTES = 256_000;

/** Live output of running executions, kept on the leader for /v1/busy and the log tail. */
export class LiveOutput {
  /** Per execution: the kept tail, the last chunk's seq, and how many characters arrived in all. */
  private readonly tails = new Map<string, { text: string; seq: number; total: number }>();

  /** Appends a chunk; chunks must arrive in order (`seq`), duplicates are ignored. */
  append(id: string, seq: number, data: string): void {
    const cur = this.tails.get(id) ?? { text: "", seq: -1, total: 0 };
    if (seq <= cur.seq) return;
    let text = cur.text + data;
    // Characters are at most 3 UTF-8 bytes in the BMP; trimming by chars keeps this cheap.
    if (text.length > LIVE_TAIL_BYTES) text = text.slice(text.length - LIVE_TAIL_BYTES);
    this.tails.set(id, { text, seq, total: cur.total + data.length });
  }

  /** Output seen so far for an execution ("" if none). */
  get(id: string): string {
    return this.tails.get(id)?.text ?? "";
  }

  /**
   * What arrived after offset `from` (characters since the run began): a log tail resumes from the
   * offset of its last event; characters cut from the bounded tail meanwhile are counted as skipped.
   */
  since(id: string, from: number): { text: string; offset: number; skipped: number } {
    const cur = this.tails.get(id);
    if (!cur) return { text: "", offset: from, skipped: 0 };
    const kept = cur.total - cur.text.length;
    // A client ahead of the run (an offset from an earlier leader's count) starts again at the tail.
    const at = from > cur.total ? kept : Math.max(from, kept);
    return { text: cur.text.slice(at - kept), offset: cur.total, skipped: Math.max(0, kept - from) };
  }

  /** Forgets an execution once its result is committed. */
  delete(id: string): void {
    this.tails.delete(id);
  }
}

/**
 * The output an execution keeps from its result: the last LIVE_TAIL_BYTES bytes (UTF-8) of what the
 * runner sent, its error line before them, and, when anything was dropped, one first line saying how
 * many bytes in all: the runner's `dropped_bytes` (older than the tail it keeps) plus what is cut
 * here (a runner that did not trim: an old or a broken one), so no result makes the state or the
 * Raft log heavy and none hides that it lost output.
 */
export function resultOutput(
  r: Pick<Result, "output" | "error" | "dropped_bytes">,
  max: number = LIVE_TAIL_BYTES,
): string {
  const runnerDropped = r.dropped_bytes ?? 0;
  // Runners before this leader put their own note in the output: one note is written, here.
  const own = runnerDropped > 0 ? droppedOutputNote(runnerDropped) : "";
  const output = own && r.output.startsWith(own) ? r.output.slice(own.length) : r.output;
  const { tail, cut } = tailBytes(output, max);
  const dropped = runnerDropped + cut;
  const error = r.error && !output.startsWith(r.error) ? `${headBytes(r.error, ERROR_LINE_BYTES)}\n` : "";
  return `${dropped > 0 ? droppedOutputNote(dropped) : ""}${error}${tail}`;
}

/** The most of a result's error line kept (its start: an error says what went wrong first). */
export const ERROR_LINE_BYTES = 1024;

/** The first `max` bytes (UTF-8) of `text`, ending on a whole character, with "…" when cut. */
function headBytes(text: string, max: number): string {
  if (text.length * 3 <= max) return text;
  const buf = Buffer.from(text, "utf8");
  if (buf.length <= max) return text;
  let end = max;
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return `${buf.subarray(0, end).toString("utf8")}…`;
}

/** The last `max` bytes (UTF-8) of `text`, starting on a whole character, and how many bytes were cut. */
export function tailBytes(text: string, max: number): { tail: string; cut: number } {
  // A UTF-16 unit is at most 3 UTF-8 bytes: short text needs no encoding to know it fits.
  if (text.length * 3 <= max) return { tail: text, cut: 0 };
  const buf = Buffer.from(text, "utf8");
  if (buf.length <= max) return { tail: text, cut: 0 };
  let start = buf.length - max;
  while (start < buf.length && (buf[start]! & 0xc0) === 0x80) start++;
  return { tail: buf.subarray(start).toString("utf8"), cut: start };
}
