import { describe, expect, it } from "vitest";
import { AppError, appErrorFromBody, isAppError, toAppError } from "./errors";

describe("isAppError", () => {
  it("accepts anything carrying one of our codes and a message, instance or not", () => {
    const plain = { code: "NOT_LEADER", message: "not the leader", leader: "http://b:1" };
    const cases: [unknown, boolean][] = [
      [new AppError("NOT_FOUND", "gone"), true],
      [plain, true],
      [{ code: "CONFLICT", message: "x", details: { field: "name" } }, true],
      [Object.assign(new Error("busy"), { code: "EADDRINUSE" }), false],
      [{ code: "NOT_FOUND" }, false],
      [{ code: "NOT_FOUND", message: "x", details: "field" }, false],
      [null, false],
      ["NOT_FOUND", false],
    ];
    for (const [e, want] of cases) expect(isAppError(e), JSON.stringify(e)).toBe(want);
  });

  it("narrows to code, message and details without instanceof", () => {
    const e: unknown = new AppError("VALIDATION", "bad", { field: "name" });
    if (!isAppError(e)) throw new Error("expected an AppError");
    expect([e.code, e.message, e.details?.field]).toEqual(["VALIDATION", "bad", "name"]);
  });
});

describe("toAppError", () => {
  it("returns an AppError as it is", () => {
    const e = new AppError("NOT_FOUND", "gone");
    expect(toAppError(e)).toBe(e);
  });

  it("rebuilds a plain one, its other fields as details, the original as cause", () => {
    const plain = { code: "NOT_LEADER" as const, message: "not the leader", leader: "http://b:1" };
    const e = toAppError(plain);
    expect(e).toBeInstanceOf(AppError);
    expect(e.toJSON()).toEqual({
      error: { code: "NOT_LEADER", message: "not the leader", leader: "http://b:1" },
    });
    expect(e.cause).toBe(plain);
    const shaped = toAppError({ code: "CONFLICT", message: "x", details: { field: "name" } });
    expect(shaped.details).toEqual({ field: "name" });
  });

  it("round-trips a wire body", () => {
    const sent = new AppError("NOT_LEADER", "not the leader", { leader: "http://b:1" });
    const got = appErrorFromBody(JSON.parse(JSON.stringify(sent)), 421);
    expect(isAppError(got) && got.code === "NOT_LEADER" && got.details?.leader).toBe("http://b:1");
  });
});
