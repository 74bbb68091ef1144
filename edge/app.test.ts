import { describe, expect, it } from "vitest";
import { AppError } from "../shared/errors";
import type { Logger } from "../shared/logger";
import { createApp } from "./app";
import { FakeControl } from "./testing/fake-control";
import { testApp } from "./testing/test-app";

describe("cross-cutting behaviour", () => {
  it("GET /health answers healthy without calling control", async () => {
    const { app, control } = testApp();
    const res = await app.request("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "healthy" });
    expect(control.calls).toEqual([]);
  });

  it("sets X-Whom on successes, errors, unknown routes and preflights", async () => {
    const { app } = testApp();
    const ok = await app.request("/v1/jobs");
    const missing = await app.request("/v1/jobs/nope");
    const noRoute = await app.request("/v2/whatever");
    const preflight = await app.request("/v1/jobs", {
      method: "OPTIONS",
      headers: { origin: "https://ui.example", "access-control-request-method": "POST" },
    });
    for (const res of [ok, missing, noRoute, preflight]) expect(res.headers.get("x-whom")).toBe("edge-test");
    expect([ok.status, missing.status, noRoute.status, preflight.status]).toEqual([200, 404, 404, 204]);
  });

  it("defaults X-Whom to 'edge' and survives a failing nodeName callback", async () => {
    const control = new FakeControl();
    const plain = createApp({ control });
    expect((await plain.request("/health")).headers.get("x-whom")).toBe("edge");
    const broken = createApp({
      control,
      nodeName: async () => {
        throw new Error("boom");
      },
    });
    const res = await broken.request("/health");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-whom")).toBe("unknown");
  });

  it("allows every origin and exposes X-Total-Count", async () => {
    const { app } = testApp();
    const res = await app.request("/v1/jobs", { headers: { origin: "https://ui.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const exposed = (res.headers.get("access-control-expose-headers") ?? "").split(",");
    expect(exposed).toContain("X-Total-Count");
    expect(exposed).toContain("Location");
  });

  it("answers a preflight with the requested headers allowed", async () => {
    const { app } = testApp();
    const res = await app.request("/v1/jobs/x", {
      method: "OPTIONS",
      headers: {
        origin: "https://ui.example",
        "access-control-request-method": "PUT",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-methods")).toContain("PUT");
    expect(res.headers.get("access-control-allow-headers")).toBe("authorization,content-type");
  });

  it("?pretty (presence only) indents JSON with four spaces, errors included", async () => {
    const { app } = testApp();
    const compact = await (await app.request("/health")).text();
    const pretty = await (await app.request("/health?pretty")).text();
    const prettyTrue = await (await app.request("/health?pretty=true")).text();
    expect(compact).toBe('{"status":"healthy"}');
    expect(pretty).toBe('{\n    "status": "healthy"\n}');
    expect(prettyTrue).toBe(pretty);
    const err = await app.request("/v1/jobs/nope?pretty");
    expect(await err.text()).toMatch(/^\{\n {4}"error": \{\n {8}"code": "NOT_FOUND"/);
  });

  it("renders errors as JSON with the status from httpStatusOf", async () => {
    const { app, control } = testApp();
    control.failures.set("jobs.get", new AppError("NO_QUORUM", "no quorum"));
    const res = await app.request("/v1/jobs/a");
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ error: { code: "NO_QUORUM", message: "no quorum" } });
  });

  it("answers unknown routes with a NOT_FOUND error body", async () => {
    const { app } = testApp();
    const res = await app.request("/v1/nothing-here", { method: "POST" });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: "NOT_FOUND", message: "no route for POST /v1/nothing-here" },
    });
  });

  it("turns a bug into a logged 500 INTERNAL without echoing its message", async () => {
    const logged: string[] = [];
    const logger: Logger = {
      debug() {},
      info() {},
      warn() {},
      error: (msg, fields) => logged.push(`${msg} ${JSON.stringify(fields)}`),
      child: () => logger,
    };
    const control = new FakeControl();
    control.call = async () => {
      throw new TypeError("secret internals");
    };
    const app = createApp({ control, logger });
    const res = await app.request("/v1/members");
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("INTERNAL");
    expect(body.error.message).not.toContain("secret internals");
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain("secret internals");
    expect(logged[0]).toContain("GET /v1/members");
  });

  it("passes a control error's details (field, leader) through", async () => {
    const { app, control } = testApp();
    control.failures.set(
      "jobs.delete",
      new AppError("NOT_LEADER", "not the leader", { leader: "10.0.0.2:8080" }),
    );
    const res = await app.request("/v1/jobs/a", { method: "DELETE" });
    expect(res.status).toBe(421);
    expect(await res.json()).toEqual({
      error: { code: "NOT_LEADER", message: "not the leader", leader: "10.0.0.2:8080" },
    });
  });
});
