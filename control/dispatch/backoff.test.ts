import { describe, expect, it } from "vitest";
import { retryBackoffMs } from "./backoff";

describe("retryBackoffMs (Dkron's formula)", () => {
  it("grows with the attempt number and the run time", () => {
    expect(retryBackoffMs(500, 1)).toBe(500); // log2(1)=0, +1
    expect(retryBackoffMs(500, 2)).toBe(1000);
    expect(retryBackoffMs(2000, 1)).toBe(1500); // log2(4)=2, +1 = 3 steps
    expect(retryBackoffMs(60_000, 1)).toBe(Math.floor(Math.log2(120) + 1) * 500);
  });

  it("does not wait after a very short run", () => {
    expect(retryBackoffMs(10, 1)).toBe(0);
    expect(retryBackoffMs(0, 3)).toBe(0);
  });
});
