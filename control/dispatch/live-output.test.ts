import { describe, expect, it } from "vitest";
import { LIVE_TAIL_BYTES, LiveOutput } from "./live-output";

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
