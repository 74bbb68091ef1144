import { describe, expect, it } from "vitest";
import { jsonInit, testApp } from "../testing/test-app";

type ErrorBody = { error: { code: string; message: string; field: string; limit: number } };

const job = (pad: number) => ({
  name: "j",
  schedule: "@daily",
  executor: "shell",
  metadata: { pad: "x".repeat(pad) },
});

/** A body with no Content-Length, as a chunked upload arrives. */
function streamed(text: string): RequestInit {
  return { method: "POST", body: new Blob([text]).stream(), duplex: "half" } as RequestInit;
}

describe("request body limit (the Worker's reader, the same app as on a node)", () => {
  it("413 TOO_LARGE naming the limit when Content-Length is over it; nothing reaches control", async () => {
    const { app, control } = testApp({ maxBodyBytes: 2048 });
    const init = jsonInit("POST", job(4096));
    const length = String(new TextEncoder().encode(init.body as string).length);
    const res = await app.request("/v1/jobs", { ...init, headers: { "content-length": length } });
    expect(res.status).toBe(413);
    const body = (await res.json()) as ErrorBody;
    expect(body.error).toMatchObject({ code: "TOO_LARGE", field: "body", limit: 2048 });
    expect(body.error.message).toMatch(/^the request body is \d+ bytes; over the limit of 2048 bytes/);
    expect(control.jobs.size).toBe(0);
  });

  it("counts a body without a length as it reads, for jobs and for restore files", async () => {
    const { app, control } = testApp({ maxBodyBytes: 2048 });
    expect((await app.request("/v1/jobs", streamed(JSON.stringify(job(4096))))).status).toBe(413);
    const form = new Response(
      (() => {
        const f = new FormData();
        f.append("file", JSON.stringify([job(4096)]));
        return f;
      })(),
    );
    const res = await app.request("/v1/restore", {
      method: "POST",
      headers: { "content-type": form.headers.get("content-type")! },
      body: form.body,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(control.jobs.size).toBe(0);
  });

  it("takes a body at the limit, and reads it whole", async () => {
    const { app, control } = testApp({ maxBodyBytes: 2048 });
    const text = JSON.stringify(job(100));
    expect((await app.request("/v1/jobs", streamed(text))).status).toBe(201);
    expect(control.jobs.get("j")?.metadata).toEqual({ pad: "x".repeat(100) });
  });
});
