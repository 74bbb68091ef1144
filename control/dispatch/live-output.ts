/** Bytes of live output kept per running execution (the same tail the runner keeps). */
export const LIVE_TAIL_BYTES = 256_000;

/** Live output of running executions, kept on the leader for /v1/busy and the log tail. */
export class LiveOutput {
  private readonly tails = new Map<string, { text: string; seq: number }>();

  /** Appends a chunk; chunks must arrive in order (`seq`), duplicates are ignored. */
  append(id: string, seq: number, data: string): void {
    const cur = this.tails.get(id) ?? { text: "", seq: -1 };
    if (seq <= cur.seq) return;
    let text = cur.text + data;
    // Characters are at most 3 UTF-8 bytes in the BMP; trimming by chars keeps this cheap.
    if (text.length > LIVE_TAIL_BYTES) text = text.slice(text.length - LIVE_TAIL_BYTES);
    this.tails.set(id, { text, seq });
  }

  /** Output seen so far for an execution ("" if none). */
  get(id: string): string {
    return this.tails.get(id)?.text ?? "";
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
