import { describe, expect, it } from "vitest";
import { ERROR_LINE_BYTES, LIVE_TAIL_BYTES, LiveOutput, resultOutput, tailBytes } from "./live-output";

describe("LiveOutput.since: a log tail resumes from its last offset", () => {
  it("gives what arrived after the offset, and the offset to resume from", () => {
    const live = new LiveOutput();
    live.append("e", 0, "hello ");
    expect(live.since("e", 0)).toEqual({ text: "hello ", offset: 6, skipped: 0 });
    live.append("e", 1, "world\n");
    expect(live.since("e", 6)).toEqual({ text: "world\n", offset: 12, skipped: 0 });
    expect(live.since("e", 12)).toEqual({ text: "", offset: 12, skipped: 0 });
  });

  it("ignores a re-sent chunk, so a reconnect never doubles a line", () => {
    const live = new LiveOutput();
    live.append("e", 0, "a");
    live.append("e", 0, "a");
    live.append("e", 1, "b");
    expect(live.since("e", 0).text).toBe("ab");
  });

  it("counts what the bounded tail dropped before a slow client came back", () => {
    const live = new LiveOutput();
    live.append("e", 0, "x".repeat(LIVE_TAIL_BYTES));
    live.append("e", 1, "y".repeat(1000));
    const r = live.since("e", 10);
    expect(r.skipped).toBe(1000 - 10);
    expect(r.offset).toBe(LIVE_TAIL_BYTES + 1000);
    expect(r.text.length).toBe(LIVE_TAIL_BYTES);
    expect(r.text.endsWith("y")).toBe(true);
  });

  it("answers an unknown execution or an offset past the end without inventing output", () => {
    const live = new LiveOutput();
    expect(live.since("nope", 5)).toEqual({ text: "", offset: 5, skipped: 0 });
    live.append("e", 0, "abc");
    expect(live.since("e", 99)).toEqual({ text: "abc", offset: 3, skipped: 0 });
  });
});

describe("resultOutput: what a result keeps, and one note on what was dropped", () => {
  it("adds the runner's dropped_bytes to what the leader cuts, in one note before the error line", () => {
    expect(resultOutput({ output: "0123456789", dropped_bytes: 500 }, 4)).toBe(
      "[dkron: 506 bytes of output dropped]\n6789",
    );
    expect(resultOutput({ output: "tail", error: "exit status 1", dropped_bytes: 7 }, 10)).toBe(
      "[dkron: 7 bytes of output dropped]\nexit status 1\ntail",
    );
    expect(resultOutput({ output: "short", error: "exit status 2" })).toBe("exit status 2\nshort");
    expect(resultOutput({ output: "exit status 2\nshort", error: "exit status 2" })).toBe(
      "exit status 2\nshort",
    );
  });

  it("keeps the start of a huge error line, so a result stays small whatever its runner sends", () => {
    const kept = resultOutput({ output: "tail", error: `é${"x".repeat(8 * 1024 * 1024)}` });
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(ERROR_LINE_BYTES + 16);
    expect(kept.startsWith("éxxx")).toBe(true);
    expect(kept.endsWith("…\ntail")).toBe(true);
  });

  it("replaces the note an older runner put in the output with the one total", () => {
    expect(
      resultOutput({ output: "[dkron: 100 bytes of output dropped]\nabcdef", dropped_bytes: 100 }, 4),
    ).toBe("[dkron: 102 bytes of output dropped]\ncdef");
  });

  it("cuts on a whole character and counts bytes, not characters", () => {
    // "é" is 2 bytes: the last 6 of the 8 bytes start inside the first "é", so the tail starts after it.
    const { tail, cut } = tailBytes("aééxyz", 6);
    expect(tail).toBe("éxyz");
    expect(cut).toBe(3);
    expect(resultOutput({ output: "aééxyz" }, 6)).toBe("[dkron: 3 bytes of output dropped]\néxyz");
    expect(tailBytes("x".repeat(LIVE_TAIL_BYTES), LIVE_TAIL_BYTES)).toEqual({
      tail: "x".repeat(LIVE_TAIL_BYTES),
      cut: 0,
    });
  });
});
