import type { ExecutionContext } from "hono";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "./worker";

const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("Worker entry", () => {
  it("calls control at CONTROL_URL with CONTROL_TOKEN as a bearer, through the global fetch", async () => {
    const seen: { url: string; auth: string | null }[] = [];
    vi.stubGlobal("fetch", async (input: Request | string, init?: RequestInit) => {
      seen.push({ url: String(input), auth: new Headers(init?.headers).get("authorization") });
      return Response.json({ paused: true });
    });
    const env = {
      CONTROL_URL: "https://control.example:8443/",
      CONTROL_TOKEN: "s3cret",
      EDGE_NAME: "edge-w",
    };
    const res = await worker.fetch(new Request("https://api.example/v1/pause"), env, ctx);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ paused: true });
    expect(res.headers.get("x-whom")).toBe("edge-w");
    expect(seen).toEqual([
      { url: "https://control.example:8443/_control/rpc/pause.get", auth: "Bearer s3cret" },
    ]);
  });

  it("answers /health without a control round-trip", async () => {
    const spy = vi.fn();
    vi.stubGlobal("fetch", spy);
    const res = await worker.fetch(
      new Request("https://api.example/health"),
      { CONTROL_URL: "http://c:1" },
      ctx,
    );
    expect(await res.json()).toEqual({ status: "healthy" });
    expect(res.headers.get("x-whom")).toBe("edge");
    expect(spy).not.toHaveBeenCalled();
  });

  it("maps an unreachable control node to 503 UNAVAILABLE", async () => {
    vi.stubGlobal("fetch", async () => {
      throw new TypeError("connect ECONNREFUSED");
    });
    const res = await worker.fetch(
      new Request("https://api.example/v1/jobs"),
      { CONTROL_URL: "http://c:2" },
      ctx,
    );
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("UNAVAILABLE");
  });

  it("a missing or bad CONTROL_URL is a 500 naming the binding", async () => {
    for (const env of [{}, { CONTROL_URL: "not a url" }, { CONTROL_URL: "ftp://x" }]) {
      const res = await worker.fetch(new Request("https://api.example/v1/jobs"), env, ctx);
      expect(res.status).toBe(500);
      const body = (await res.json()) as { error: { code: string; field?: string } };
      expect(body.error).toMatchObject({ code: "INTERNAL", field: "CONTROL_URL" });
    }
  });
});
