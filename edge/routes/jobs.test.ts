import { describe, expect, it } from "vitest";
import { AppError } from "../../shared/errors";
import type { JobJson } from "../../shared/job";
import { buildJob } from "../testing/fake-control";
import { jsonInit, testApp } from "../testing/test-app";
import { MAX_JSON_DEPTH } from "./body";
import { STREAM_PAGE } from "./jobs";

/** The paging an unpaged GET /v1/jobs asks control for first: one stream page. */
const UNPAGED = { start: 0, end: STREAM_PAGE };

type ErrorBody = { error: { code: string; message: string; field?: string } };

function seeded() {
  const t = testApp();
  t.control.withJobs(
    buildJob({
      name: "alpha",
      displayname: "Backup",
      status: "success",
      metadata: { office: "bcn", team: "ops" },
    }),
    buildJob({ name: "beta", status: "failed", disabled: true, metadata: { office: "mad" } }),
    buildJob({ name: "gamma", status: "", metadata: { office: "bcn" } }),
    buildJob({ name: "delta", status: "success" }),
  );
  return t;
}

const names = async (res: Response) => ((await res.json()) as JobJson[]).map((j) => j.name);

describe("GET /v1/jobs", () => {
  it("lists all jobs by name with X-Total-Count", async () => {
    const { app } = seeded();
    const res = await app.request("/v1/jobs");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-total-count")).toBe("4");
    expect(await names(res)).toEqual(["alpha", "beta", "delta", "gamma"]);
  });

  it("pages with _start/_end while X-Total-Count counts every match", async () => {
    const { app, control } = seeded();
    const res = await app.request("/v1/jobs?_sort=id&_order=DESC&_start=1&_end=3");
    expect(res.headers.get("x-total-count")).toBe("4");
    expect(await names(res)).toEqual(["delta", "beta"]);
    expect(control.lastParams("jobs.list")).toEqual({ sort: "name", order: "DESC", start: 1, end: 3 });
  });

  it("treats any _order but desc as ascending", async () => {
    const { app, control } = seeded();
    await app.request("/v1/jobs?_order=sideways");
    expect(control.lastParams("jobs.list")).toEqual({ order: "ASC", ...UNPAGED });
    await app.request("/v1/jobs?_order=desc");
    expect(control.lastParams("jobs.list")).toEqual({ order: "DESC", ...UNPAGED });
  });

  it("parses repeatable metadata[k]=v filters (encoded brackets too), first value winning", async () => {
    const { app, control } = seeded();
    const res = await app.request(
      "/v1/jobs?metadata[office]=bcn&metadata%5Bteam%5D=ops&metadata[office]=mad",
    );
    expect(control.lastParams("jobs.list")).toEqual({ metadata: { office: "bcn", team: "ops" }, ...UNPAGED });
    expect(await names(res)).toEqual(["alpha"]);
    expect(res.headers.get("x-total-count")).toBe("1");
  });

  it("passes q, status (incl. untriggered), disabled and stale through", async () => {
    const { app, control } = seeded();
    expect(await names(await app.request("/v1/jobs?status=untriggered"))).toEqual(["gamma"]);
    expect(control.lastParams("jobs.list")).toEqual({ status: "untriggered", ...UNPAGED });
    expect(await names(await app.request("/v1/jobs?disabled=true"))).toEqual(["beta"]);
    expect(await names(await app.request("/v1/jobs?q=Back"))).toEqual(["alpha"]);
    await app.request("/v1/jobs?q=&status=&stale");
    expect(control.lastParams("jobs.list")).toEqual({ stale: true, ...UNPAGED });
  });

  it.each([
    ["_start=-1", "_start"],
    ["_start=abc", "_start"],
    ["_end=1.5", "_end"],
    ["_start=5&_end=2", "_end"],
    ["disabled=yes", "disabled"],
    ["stale=maybe", "stale"],
    ["metadata=office", "metadata"],
    ["metadata[]=x", "metadata[]"],
  ])("refuses %s with a 400 naming %s", async (query, field) => {
    const { app, control } = seeded();
    const res = await app.request(`/v1/jobs?${query}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe("VALIDATION");
    expect(body.error.field).toBe(field);
    expect(body.error.message).toContain(field);
    expect(control.calls).toEqual([]);
  });

  it("renames control's field for an unknown _sort to the query parameter", async () => {
    const { app } = seeded();
    const res = await app.request("/v1/jobs?_sort=owner");
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.field).toBe("_sort");
  });
});

describe("POST/PATCH /v1/jobs and PUT /v1/jobs/:job", () => {
  const body = {
    name: "nightly",
    schedule: "@daily",
    executor: "shell",
    executor_config: { command: "true" },
  };

  it("creates a job: 201, Location of the job, the stored job as body", async () => {
    const { app, control } = testApp();
    const res = await app.request("/v1/jobs?runoncreate", jsonInit("POST", { ...body, success_count: 99 }));
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe("/v1/jobs/nightly");
    const job = (await res.json()) as JobJson;
    expect(job).toMatchObject({ id: "nightly", name: "nightly", schedule: "@daily", concurrency: "allow" });
    expect(job.success_count).toBe(0); // stored state, not the echoed request
    expect(control.lastParams("jobs.put")).toEqual({
      job: { ...body, success_count: 99 },
      runoncreate: true,
    });
    expect(control.jobs.has("nightly")).toBe(true);
  });

  it("runoncreate is a presence flag, absent means false", async () => {
    const { app, control } = testApp();
    await app.request("/v1/jobs", jsonInit("PATCH", body));
    expect(control.lastParams("jobs.put")?.runoncreate).toBe(false);
    await app.request("/v1/jobs?runoncreate=false", jsonInit("PATCH", body));
    expect(control.lastParams("jobs.put")?.runoncreate).toBe(true);
  });

  it("PATCH replaces the whole job, like POST", async () => {
    const { app, control } = testApp();
    control.withJobs(buildJob({ name: "nightly", displayname: "Old", retries: 3 }));
    const res = await app.request("/v1/jobs", jsonInit("PATCH", body));
    expect(res.status).toBe(201);
    expect(control.jobs.get("nightly")).toMatchObject({ displayname: "", retries: 0, schedule: "@daily" });
  });

  it("PUT passes the path name so control can refuse a mismatch", async () => {
    const { app, control } = testApp();
    const ok = await app.request("/v1/jobs/nightly", jsonInit("PUT", body));
    expect(ok.status).toBe(201);
    expect(control.lastParams("jobs.put")?.path_name).toBe("nightly");
    const bad = await app.request("/v1/jobs/other", jsonInit("PUT", body));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorBody).error).toMatchObject({ code: "VALIDATION", field: "name" });
  });

  it("percent-encodes the name in Location", async () => {
    const { app } = testApp();
    const res = await app.request("/v1/jobs", jsonInit("POST", { ...body, name: "café" }));
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe("/v1/jobs/caf%C3%A9");
  });

  it("refuses a malformed body with 400 BAD_REQUEST naming the body, without calling control", async () => {
    const { app, control } = testApp();
    const res = await app.request("/v1/jobs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"name": "x",',
    });
    expect(res.status).toBe(400);
    const err = ((await res.json()) as ErrorBody).error;
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.field).toBe("body");
    expect(err.message).toMatch(/^request body is not valid JSON: /);
    expect(control.calls).toEqual([]);
  });

  it("refuses a body nested past MAX_JSON_DEPTH with 400 naming the body, before control (fuzz finding)", async () => {
    // A Worker forwards the body to control as JSON; JSON.stringify recurses and overflowed into a 500.
    const { app, control } = testApp();
    const nest = (n: number) => `{"junk":${"[".repeat(n)}1${"]".repeat(n)},${JSON.stringify(body).slice(1)}`;
    const deep = await app.request("/v1/jobs", { method: "POST", body: nest(MAX_JSON_DEPTH) });
    expect(deep.status).toBe(400);
    expect(((await deep.json()) as ErrorBody).error).toMatchObject({ code: "BAD_REQUEST", field: "body" });
    expect(control.calls).toEqual([]);
    // Brackets inside strings are text, and the limit itself is allowed.
    const text = { ...body, displayname: "[".repeat(1000) };
    expect((await app.request("/v1/jobs", jsonInit("POST", text))).status).toBe(201);
    expect((await app.request("/v1/jobs", { method: "POST", body: nest(MAX_JSON_DEPTH - 1) })).status).toBe(
      201,
    );
  });

  it("refuses half a surrogate pair in a key or string, which storage would turn into U+FFFD (fuzz finding)", async () => {
    const { app, control } = testApp();
    for (const raw of [
      `{"name":"x\\ud800","schedule":"@daily"}`,
      `{"name":"x","schedule":"@daily","metadata":{"\\udc00k":"v"}}`,
    ]) {
      const r = await app.request("/v1/jobs", { method: "POST", body: raw });
      expect(r.status, raw).toBe(400);
      expect(((await r.json()) as ErrorBody).error).toMatchObject({ code: "BAD_REQUEST", field: "body" });
    }
    expect(control.calls).toEqual([]);
    // A whole character written as an escaped pair is fine.
    const pair = { ...body, displayname: "\ud83d\ude00" };
    expect((await app.request("/v1/jobs", jsonInit("POST", pair))).status).toBe(201);
  });

  it("maps control's validation error to 400 with the field", async () => {
    const { app } = testApp();
    const res = await app.request("/v1/jobs", jsonInit("POST", { ...body, retries: -1 }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error).toMatchObject({ code: "VALIDATION", field: "retries" });
  });

  it("answers 503 PAUSED while submissions are paused", async () => {
    const { app, control } = testApp();
    control.paused = true;
    const res = await app.request("/v1/jobs", jsonInit("POST", body));
    expect(res.status).toBe(503);
    expect(((await res.json()) as ErrorBody).error.code).toBe("PAUSED");
  });
});

describe("single-job routes", () => {
  it("GET /v1/jobs/:job returns the job, 404 JSON when missing", async () => {
    const { app, control } = seeded();
    const res = await app.request("/v1/jobs/alpha?stale");
    expect(res.status).toBe(200);
    expect(((await res.json()) as JobJson).name).toBe("alpha");
    expect(control.lastParams("jobs.get")).toEqual({ name: "alpha", stale: true });
    const missing = await app.request("/v1/jobs/zeta");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as ErrorBody).error.code).toBe("NOT_FOUND");
  });

  it("decodes the path parameter", async () => {
    const { app, control } = testApp();
    control.withJobs(buildJob({ name: "café" }));
    const res = await app.request("/v1/jobs/caf%C3%A9");
    expect(res.status).toBe(200);
    expect(control.lastParams("jobs.get")).toEqual({ name: "café" });
  });

  it("DELETE /v1/jobs/:job returns the deleted job; a conflict keeps its own status", async () => {
    const { app, control } = seeded();
    const res = await app.request("/v1/jobs/beta", { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as JobJson).name).toBe("beta");
    expect(control.jobs.has("beta")).toBe(false);
    control.failures.set("jobs.delete", new AppError("CONFLICT", "job alpha has dependent jobs"));
    expect((await app.request("/v1/jobs/alpha", { method: "DELETE" })).status).toBe(409);
  });

  it.each(["/v1/jobs/alpha", "/v1/jobs/alpha/run"])(
    "POST %s starts a run and returns the job",
    async (path) => {
      const { app, control } = seeded();
      const res = await app.request(path, { method: "POST" });
      expect(res.status).toBe(200);
      expect(((await res.json()) as JobJson).name).toBe("alpha");
      expect(control.calls).toEqual([{ method: "jobs.run", params: { name: "alpha" } }]);
    },
  );

  it("a run with no target is a 422 NO_TARGETS", async () => {
    const { app, control } = seeded();
    control.failures.set("jobs.run", new AppError("NO_TARGETS", "no target nodes found to run job alpha"));
    const res = await app.request("/v1/jobs/alpha/run", { method: "POST" });
    expect(res.status).toBe(422);
  });

  it("POST /v1/jobs/:job/toggle flips disabled", async () => {
    const { app } = seeded();
    const res = await app.request("/v1/jobs/beta/toggle", { method: "POST" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as JobJson).disabled).toBe(false);
  });
});

describe("GET /v1/jobs: wide and unpaged lists stream page by page", () => {
  const many = (n: number) => {
    const t = testApp();
    t.control.withJobs(
      ...Array.from({ length: n }, (_, i) =>
        buildJob({ name: `job-${String(i).padStart(5, "0")}`, status: i % 3 ? "success" : "" }),
      ),
    );
    return t;
  };
  /** The same list read in pages of 25 (what a UI sends), concatenated. */
  const paged = async (app: ReturnType<typeof testApp>["app"], query: string, total: number) => {
    const out: JobJson[] = [];
    for (let at = 0; at < total; at += 25) {
      const res = await app.request(`/v1/jobs?${query}&_start=${at}&_end=${at + 25}`);
      out.push(...((await res.json()) as JobJson[]));
    }
    return out;
  };

  it.each([
    ["", 2 * STREAM_PAGE + 17],
    ["_sort=name&_order=DESC", 2 * STREAM_PAGE],
    ["status=success", STREAM_PAGE + 1],
    ["", 3],
    ["", 0],
  ])("?%s over %i jobs: the stream's body is exactly the JSON of the paged lists", async (query, n) => {
    const { app, control } = many(n);
    const res = await app.request(`/v1/jobs?${query}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const total = Number(res.headers.get("x-total-count"));
    const text = await res.text();
    const expected = await paged(app, query, total);
    expect(text).toBe(JSON.stringify(expected));
    expect(expected.length).toBe(total);
    // Each control call asked for one page at most.
    for (const c of control.calls.filter((x) => x.method === "jobs.list")) {
      const p = c.params as { start?: number; end?: number };
      expect((p.end ?? 0) - (p.start ?? 0)).toBeLessThanOrEqual(STREAM_PAGE);
    }
  });

  it("a wide _start/_end range streams the same slice a single call would return", async () => {
    const { app } = many(1300);
    const res = await app.request("/v1/jobs?_start=7&_end=1207");
    const items = (await res.json()) as JobJson[];
    expect(items.map((j) => j.name)).toEqual(
      Array.from({ length: 1200 }, (_, i) => `job-${String(i + 7).padStart(5, "0")}`),
    );
    expect(res.headers.get("x-total-count")).toBe("1300");
  });
});
