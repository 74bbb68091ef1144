import { describe, expect, it } from "vitest";
import { AppError } from "../../shared/errors";
import type { CreatedWebhookJson, DeliveryJson, WebhookJson } from "../../shared/webhook";
import { buildJob } from "../testing/fake-control";
import { jsonInit, testApp } from "../testing/test-app";

type ErrorBody = { error: { code: string; message: string; field?: string } };

function seeded(opts: { maxBodyBytes?: number } = {}) {
  const t = testApp(opts);
  t.control.withJobs(buildJob({ name: "deploy" }));
  return t;
}

describe("/v1/webhooks", () => {
  it("creates a hook: 201, Location, no-store, the secret once and an absolute url", async () => {
    const { app, control } = seeded();
    const res = await app.request("http://api.example/v1/webhooks", jsonInit("POST", { job: "deploy" }));
    expect(res.status).toBe(201);
    const hook = (await res.json()) as CreatedWebhookJson;
    expect(hook).toMatchObject({ id: "hook1", job: "deploy", url: "http://api.example/hooks/hook1" });
    expect(hook.secret).toBe("whsec_hook1");
    expect(res.headers.get("location")).toBe("/v1/webhooks/hook1");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(control.lastParams("webhooks.create")).toEqual({ hook: { job: "deploy" } });
  });

  it("lists, gets and deletes without the secret", async () => {
    const { app } = seeded();
    await app.request("/v1/webhooks", jsonInit("POST", { job: "deploy" }));
    const list = await app.request("/v1/webhooks?job=deploy");
    expect(list.status).toBe(200);
    expect(list.headers.get("x-total-count")).toBe("1");
    const [hook] = (await list.json()) as WebhookJson[];
    expect(hook).toEqual({
      id: "hook1",
      job: "deploy",
      created_at: "2026-01-01T00:00:00.000Z",
      last_delivery_at: null,
      url: "http://localhost/hooks/hook1",
    });
    expect(await (await app.request("/v1/webhooks/hook1")).json()).toEqual(hook);
    const del = await app.request("/v1/webhooks/hook1", { method: "DELETE" });
    expect(await del.json()).toEqual(hook);
    expect((await app.request("/v1/webhooks/hook1")).status).toBe(404);
  });

  it("refuses a body that is not JSON, naming it", async () => {
    const { app } = seeded();
    const res = await app.request("/v1/webhooks", { method: "POST", body: "{job" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.field).toBe("body");
  });
});

describe("POST /hooks/:id", () => {
  it("passes the raw body and every signature header to control; 202 with the execution", async () => {
    const { app, control } = seeded();
    await app.request("/v1/webhooks", jsonInit("POST", { job: "deploy" }));
    const body = '{ "exact":  "bytes" }\n';
    const res = await app.request("/hooks/hook1", {
      method: "POST",
      headers: {
        "x-dkron-timestamp": "1767225600",
        "X-Dkron-Signature": "sha256=ab",
        "x-dkron-delivery": "d1",
        "x-hub-signature-256": "sha256=cd",
        "x-github-delivery": "g1",
        "content-type": "application/json",
      },
      body,
    });
    expect(res.status).toBe(202);
    expect((await res.json()) as DeliveryJson).toEqual({
      execution_id: "x1",
      executions: ["x1"],
      job: "deploy",
      delivery: "d1",
    });
    expect(control.lastParams("hooks.deliver")).toEqual({
      id: "hook1",
      body,
      headers: {
        timestamp: "1767225600",
        signature: "sha256=ab",
        delivery: "d1",
        github_signature: "sha256=cd",
        github_delivery: "g1",
      },
    });
  });

  it("a refused signature is 401 without a Bearer challenge (the signature, not a token, is asked for)", async () => {
    const { app, control } = seeded();
    control.failures.set("hooks.deliver", new AppError("UNAUTHORIZED", "X-Dkron-Signature does not match"));
    const res = await app.request("/hooks/hook1", { method: "POST", body: "x" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBeNull();
    control.failures.set("webhooks.list", new AppError("UNAUTHORIZED", "missing token"));
    expect((await app.request("/v1/webhooks")).headers.get("www-authenticate")).toBe('Bearer realm="dkron"');
  });

  it("sends only the headers present, and a missing hook is control's 404", async () => {
    const { app, control } = seeded();
    const res = await app.request("/hooks/nope", { method: "POST", body: "x" });
    expect(res.status).toBe(404);
    expect(control.lastParams("hooks.deliver")).toEqual({ id: "nope", body: "x", headers: {} });
  });

  it("passes the body as signed: a byte order mark kept, non-UTF-8 refused naming the body (fuzz finding)", async () => {
    const { app, control } = seeded();
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"a":1}')]);
    await app.request("/hooks/nope", { method: "POST", body: bom });
    expect(control.lastParams("hooks.deliver")?.body).toBe('\ufeff{"a":1}');
    const calls = control.calls.length;
    const latin1 = await app.request("/hooks/nope", {
      method: "POST",
      body: new Uint8Array([0x63, 0x61, 0x66, 0xe9]),
    });
    expect(latin1.status).toBe(400);
    expect(((await latin1.json()) as ErrorBody).error).toMatchObject({ code: "BAD_REQUEST", field: "body" });
    expect(control.calls.length).toBe(calls);
  });

  it("a body over the limit is 413 and never reaches control, with or without a length", async () => {
    const { app, control } = seeded({ maxBodyBytes: 1024 });
    await app.request("/v1/webhooks", jsonInit("POST", { job: "deploy" }));
    const big = "x".repeat(2048);
    const sized = await app.request("/hooks/hook1", {
      method: "POST",
      headers: { "content-length": String(big.length) },
      body: big,
    });
    expect(sized.status).toBe(413);
    const chunked = await app.request("/hooks/hook1", {
      method: "POST",
      body: new Blob([big]).stream(),
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(((await chunked.json()) as ErrorBody).error.code).toBe("TOO_LARGE");
    expect(control.calls.filter((c) => c.method === "hooks.deliver")).toEqual([]);
  });
});
