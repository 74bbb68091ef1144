import { StringDecoder } from "node:string_decoder";
import { MAX_OUTPUT_CHUNK } from "../../shared";
import { OUTPUT_TAIL_BYTES } from "./executor";

/** Keeps the last `limit` bytes (UTF-8) of a text stream, so a chatty job never grows memory without bound. */
export class OutputTail {
  #chunks: Buffer[] = [];
  #bytes = 0;
  #truncated = false;

  constructor(readonly limit: number = OUTPUT_TAIL_BYTES) {}

  /** Appends text, dropping the oldest bytes beyond the limit. */
  append(text: string): void {
    if (text === "") return;
    this.#chunks.push(Buffer.from(text, "utf8"));
    this.#bytes += this.#chunks.at(-1)!.length;
    while (this.#bytes > this.limit) {
      const first = this.#chunks[0]!;
      const excess = this.#bytes - this.limit;
      this.#truncated = true;
      if (first.length <= excess) {
        this.#chunks.shift();
        this.#bytes -= first.length;
      } else {
        // Copy so the dropped head of a large chunk can be freed.
        this.#chunks[0] = Buffer.from(first.subarray(excess));
        this.#bytes -= excess;
      }
    }
  }

  /** True once any output has been dropped. */
  get truncated(): boolean {
    return this.#truncated;
  }

  /** Bytes currently kept. */
  get byteLength(): number {
    return this.#bytes;
  }

  /** The kept text; a character cut in half by truncation is dropped rather than shown as U+FFFD. */
  text(): string {
    const all = Buffer.concat(this.#chunks, this.#bytes);
    let start = 0;
    if (this.#truncated) while (start < all.length && (all[start]! & 0xc0) === 0x80) start++;
    return all.toString("utf8", start);
  }
}

/** Splits text into pieces of at most maxBytes UTF-8 bytes without cutting a character in two. */
export function splitUtf8(text: string, maxBytes: number = MAX_OUTPUT_CHUNK): string[] {
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return text === "" ? [] : [text];
  const buf = Buffer.from(text, "utf8");
  const out: string[] = [];
  let start = 0;
  while (start < buf.length) {
    let end = Math.min(start + maxBytes, buf.length);
    // Back off to a character boundary (never below one full character, however small maxBytes is).
    while (end < buf.length && end > start + 1 && (buf[end]! & 0xc0) === 0x80) end--;
    out.push(buf.toString("utf8", start, end));
    start = end;
  }
  return out;
}

/** A byte source feeding a sink (stdout, stderr, a response body): decodes UTF-8 across chunk borders. */
export interface OutputSource {
  write(bytes: Buffer): void;
  /** Flushes a trailing partial character. */
  end(): void;
}

/**
 * Where an executor's output goes: the tail kept for the result and the live `onOutput` stream, which
 * see the same text in the same order, in bounded chunks.
 */
export class OutputSink {
  readonly tail: OutputTail;

  constructor(
    private readonly onOutput: (chunk: string) => void,
    limit: number = OUTPUT_TAIL_BYTES,
    private readonly maxChunk: number = MAX_OUTPUT_CHUNK,
  ) {
    this.tail = new OutputTail(limit);
  }

  /** Writes text to the tail and the live stream. */
  write(text: string): void {
    for (const piece of splitUtf8(text, this.maxChunk)) {
      this.tail.append(piece);
      try {
        this.onOutput(piece);
      } catch {
        // The consumer's failure must not turn into a failed (or crashed) job; the tail still has it.
      }
    }
  }

  /** A decoder for one byte stream; several sources may interleave at chunk granularity. */
  source(): OutputSource {
    const decoder = new StringDecoder("utf8");
    return {
      write: (bytes) => this.write(decoder.write(bytes)),
      end: () => this.write(decoder.end()),
    };
  }

  /** The output fields of a result. */
  result(): { output: string; truncated: boolean } {
    return { output: this.tail.text(), truncated: this.tail.truncated };
  }
}
