import { describe, expect, it } from "vitest";
import { formatToken, parseToken } from "./token";

describe("token format", () => {
  it("round-trips id and secret and refuses anything else", () => {
    const t = formatToken("AbCdEfGhIjKlMnOp", "s".repeat(32));
    expect(parseToken(t)).toEqual({ id: "AbCdEfGhIjKlMnOp", secret: "s".repeat(32) });
    for (const bad of [
      "",
      "dkt",
      "dkt.short.x",
      `dkt.AbCdEfGhIjKlMnOp.${"s".repeat(31)}`,
      `Bearer ${t}`,
      `${t} `,
    ])
      expect(parseToken(bad)).toBeUndefined();
  });
});
