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
 * The output an execution keeps: its last LIVE_TAIL_BYTES characters, with a first line saying what
 * was cut. The runner keeps the same tail; this holds for a runner that does not (an old or a broken
 * one), so no result can make the state or the Raft log heavy.
 */
export function keptOutput(text: string, max: number = LIVE_TAIL_BYTES): string {
  if (text.length <= max) return text;
  return `[output cut: ${text.length - max} earlier characters dropped, the last ${max} kept]\n${text.slice(text.length - max)}`;
}
