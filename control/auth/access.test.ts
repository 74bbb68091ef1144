import { describe, expect, it } from "vitest";
import { ControlParams, grants, SCOPES } from "../../shared";
import { ACCESS, authorize, coversJob } from "./access";
import { FailureLimiter } from "./failure-limiter";
import type { Identity } from "./identity";

const who = (scopes: Identity["scopes"], prefix = ""): Identity => ({
  tokenId: "t",
  name: "t",
  scopes,
  prefix,
  client: "",
});

describe("scopes", () => {
  it("admin grants everything; write and run grant read; read grants only read", () => {
    for (const need of SCOPES) expect(grants(["admin"], need)).toBe(true);
    expect(grants(["write"], "read")).toBe(true);
    expect(grants(["run"], "read")).toBe(true);
    expect(grants(["write"], "run")).toBe(false);
    expect(grants(["run"], "write")).toBe(false);
    expect(grants(["read"], "write")).toBe(false);
    expect(grants(["read", "run"], "admin")).toBe(false);
  });

  it("every control-api method has an access rule, and only tokens.touch is internal", () => {
    expect(Object.keys(ACCESS).sort()).toEqual(Object.keys(ControlParams).sort());
    const internal = Object.entries(ACCESS).filter(([, a]) => "internal" in a);
    expect(internal.map(([m]) => m)).toEqual(["tokens.touch"]);
  });

  it("refuses a method outside the token's scopes or a job outside its prefix with FORBIDDEN", () => {
    const code = (f: () => void) => {
      try {
        f();
        return "ok";
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(code(() => authorize(who(["read"]), "jobs.delete", { name: "x" }))).toBe("FORBIDDEN");
    expect(code(() => authorize(who(["write"]), "jobs.delete", { name: "x" }))).toBe("ok");
    expect(code(() => authorize(who(["write"], "a-"), "jobs.delete", { name: "b-x" }))).toBe("FORBIDDEN");
    expect(code(() => authorize(who(["run"], "a-"), "jobs.run", { name: "a-x" }))).toBe("ok");
    expect(code(() => authorize(who(["admin"]), "tokens.touch", { uses: [] }))).toBe("FORBIDDEN");
    expect(coversJob(who(["read"]), "anything")).toBe(true);
  });
});

describe("FailureLimiter", () => {
  it("refuses a client after maxFailures in a window until the window ends; others are unaffected", () => {
    const l = new FailureLimiter({ maxFailures: 3, windowMs: 1000, maxClients: 10 });
    for (let i = 0; i < 3; i++) {
      expect(l.retryAfter("a", 100)).toBe(0);
      l.fail("a", 100);
    }
    expect(l.retryAfter("a", 400)).toBe(700);
    expect(l.retryAfter("b", 400)).toBe(0);
    expect(l.retryAfter("a", 1100)).toBe(0);
    l.fail("a", 1100);
    expect(l.retryAfter("a", 1101)).toBe(0);
  });

  it("tracks at most maxClients, forgetting the oldest", () => {
    const l = new FailureLimiter({ maxFailures: 1, windowMs: 1000, maxClients: 2 });
    l.fail("a", 0);
    l.fail("b", 0);
    l.fail("c", 0);
    expect(l.retryAfter("a", 1)).toBe(0);
    expect(l.retryAfter("b", 1)).toBeGreaterThan(0);
    expect(l.retryAfter("c", 1)).toBeGreaterThan(0);
  });
});
