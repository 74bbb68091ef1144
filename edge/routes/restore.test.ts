import { describe, expect, it } from "vitest";
import { testApp } from "../testing/test-app";
import { MAX_JSON_DEPTH } from "./body";

type ErrorBody = { error: { code: string; message: string; field?: string } };

function upload(field: string, content: string): RequestInit {
  const form = new FormData();
  form.append(field, new Blob([content], { type: "application/json" }), "jobs.json");
  return { method: "POST", body: form };
}

const jobs = [
  { name: "parent", schedule: "@daily", executor: "shell" },
  { name: "Bad Name", schedule: "@daily" },
];

describe("POST /v1/restore", () => {
  it("restores a multipart file and answers a plain JSON array of results", async () => {
    const { app, control } = testApp();
    const res = await app.request("/v1/restore", upload("file", JSON.stringify(jobs)));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.startsWith("[")).toBe(true); // an array, not Dkron's double-encoded string
    expect(JSON.parse(text)).toEqual(["success create parent", "fail create Bad Name"]);
    expect(control.lastParams("restore")).toEqual({ jobs });
    expect(control.jobs.has("parent")).toBe(true);
  });

  it("accepts the file as a plain form value too", async () => {
    const { app } = testApp();
    const form = new FormData();
    form.append("file", JSON.stringify(jobs.slice(0, 1)));
    const res = await app.request("/v1/restore", { method: "POST", body: form });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(["success create parent"]);
  });

  it("400 naming `file` when the part is missing", async () => {
    const { app, control } = testApp();
    const res = await app.request("/v1/restore", upload("other", "[]"));
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error).toMatchObject({ code: "VALIDATION", field: "file" });
    const notMultipart = await app.request("/v1/restore", { method: "POST", body: "[]" });
    expect(notMultipart.status).toBe(400);
    expect(control.calls).toEqual([]);
  });

  it("400 naming `file` when it nests past MAX_JSON_DEPTH, before control (fuzz finding)", async () => {
    const { app, control } = testApp();
    const deep = `[{"name":"x","junk":${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}}]`;
    const res = await app.request("/v1/restore", upload("file", deep));
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error).toMatchObject({ code: "BAD_REQUEST", field: "file" });
    expect(control.calls).toEqual([]);
  });

  it("413 for a form over the limit whatever its Content-Length says (fuzz finding)", async () => {
    const { app, control } = testApp({ maxBodyBytes: 1000 });
    const form = new Request("http://x/", upload("file", JSON.stringify([{ name: "x".repeat(2000) }])));
    const body = new Uint8Array(await form.arrayBuffer());
    for (const length of ["", "0", "-1", "abc", "10"]) {
      const res = await app.request("/v1/restore", {
        method: "POST",
        headers: { "content-type": form.headers.get("content-type")!, "content-length": length },
        body,
      });
      expect(res.status, `Content-Length: ${length}`).toBe(413);
    }
    expect(control.calls).toEqual([]);
  });

  it("400 when the file is not JSON or not an array", async () => {
    const { app } = testApp();
    const bad = await app.request("/v1/restore", upload("file", "[{"));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorBody).error).toMatchObject({ code: "BAD_REQUEST", field: "file" });
    const obj = await app.request("/v1/restore", upload("file", '{"name":"x"}'));
    expect(obj.status).toBe(400);
    expect(((await obj.json()) as ErrorBody).error).toMatchObject({ code: "VALIDATION", field: "file" });
  });
});
