import { describe, expect, it } from "vitest";
import { OutputSink, OutputTail, splitUtf8 } from "./output-tail";

describe("OutputTail", () => {
  it("keeps everything under the limit", () => {
    const t = new OutputTail(10);
    t.append("abc");
    t.append("def");
    expect(t.text()).toBe("abcdef");
    expect(t.truncated).toBe(false);
  });

  it("keeps exactly the last `limit` bytes across chunks and marks truncation", () => {
    const t = new OutputTail(10);
    for (const c of ["0123", "4567", "89ab", "cdef"]) t.append(c);
    expect(t.text()).toBe("6789abcdef");
    expect(t.byteLength).toBe(10);
    expect(t.truncated).toBe(true);
  });

  it("tails a single chunk larger than the limit", () => {
    const t = new OutputTail(4);
    t.append("abcdefgh");
    expect(t.text()).toBe("efgh");
  });

  it("counts bytes, not characters, and drops a character cut in half", () => {
    const t = new OutputTail(5);
    t.append("ééé"); // 6 bytes: the cut lands inside the first é
    expect(t.byteLength).toBe(5);
    expect(t.text()).toBe("éé");
  });
});

describe("splitUtf8", () => {
  it("leaves short text whole and drops empty text", () => {
    expect(splitUtf8("hello", 8)).toEqual(["hello"]);
    expect(splitUtf8("", 8)).toEqual([]);
  });

  it("splits at character boundaries within the byte bound", () => {
    const text = "aé€😀".repeat(50);
    const pieces = splitUtf8(text, 7);
    expect(pieces.join("")).toBe(text);
    for (const p of pieces) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(7);
  });
});

describe("OutputSink", () => {
  it("decodes characters split across writes and feeds the tail and the stream the same text", () => {
    const seen: string[] = [];
    const sink = new OutputSink((c) => seen.push(c), 100, 4);
    const src = sink.source();
    const bytes = Buffer.from("x€yz€", "utf8");
    for (let i = 0; i < bytes.length; i++) src.write(bytes.subarray(i, i + 1));
    src.end();
    expect(seen.join("")).toBe("x€yz€");
    expect(sink.result()).toEqual({ output: "x€yz€", truncated: false });
  });
});
