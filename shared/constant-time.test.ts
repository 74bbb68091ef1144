import { describe, expect, it } from "vitest";
import { safeEqual } from "./constant-time";

describe("safeEqual", () => {
  it("is equality of strings", () => {
    const cases: [string, string, boolean][] = [
      ["", "", true],
      ["s3cret", "s3cret", true],
      ["s3cret", "s3creT", false],
      ["s3cret", "s3cre", false],
      ["s3cre", "s3cret", false],
      ["", "x", false],
      ["x", "", false],
      ["\u0000", "", false],
      ["é", "e\u0301", false],
      ["ключ", "ключ", true],
    ];
    for (const [a, b, want] of cases) expect(safeEqual(a, b), `${a} vs ${b}`).toBe(want);
  });
});
