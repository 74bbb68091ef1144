import { describe, expect, it } from "vitest";
import { parseWorkerEnv } from "./env";

// What the Worker does with its bindings over the network (secret as bearer, 500 for a bad URL, 503
// for an unreachable node) is proven in workerd by test/workerd/api.test.ts; this is the parsing.
describe("parseWorkerEnv", () => {
  it("names CONTROL_URL when it is missing or not an http(s) URL", () => {
    for (const env of [{}, { CONTROL_URL: "not a url" }, { CONTROL_URL: "ftp://x" }]) {
      expect(() => parseWorkerEnv(env)).toThrow(
        expect.objectContaining({
          code: "VALIDATION",
          details: expect.objectContaining({ field: "CONTROL_URL" }),
        }),
      );
    }
  });

  it("reads MAX_BODY_BYTES from a [vars] string and refuses one below 1024", () => {
    expect(parseWorkerEnv({ CONTROL_URL: "http://c:1", MAX_BODY_BYTES: "2048" }).MAX_BODY_BYTES).toBe(2048);
    expect(() => parseWorkerEnv({ CONTROL_URL: "http://c:1", MAX_BODY_BYTES: "12" })).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ field: "MAX_BODY_BYTES" }) }),
    );
  });

  it("refuses an empty CONTROL_TOKEN rather than sending no secret", () => {
    expect(() => parseWorkerEnv({ CONTROL_URL: "http://c:1", CONTROL_TOKEN: "" })).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ field: "CONTROL_TOKEN" }) }),
    );
    expect(parseWorkerEnv({ CONTROL_URL: "https://c:8443/", CONTROL_TOKEN: "s" })).toEqual({
      CONTROL_URL: "https://c:8443/",
      CONTROL_TOKEN: "s",
    });
  });
});
