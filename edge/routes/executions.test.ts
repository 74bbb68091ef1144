import { describe, expect, it } from "vitest";
import type { ExecutionJson } from "../../shared/execution";
import type { JobJson } from "../../shared/job";
import { buildExecution, buildJob } from "../testing/fake-control";
import { testApp } from "../testing/test-app";

type ErrorBody = { error: { code: string; message: string; field?: string } };

function seeded() {
  const t = testApp();
  t.control.withJobs(buildJob({ name: "alpha", success_count: 3, error_count: 1 }));
  t.control.executions.set(
    "alpha",
    [1, 2, 3].map((i) =>
      buildExecution({
        id: `e${i}`,
        job_name: "alpha",
        started_at: `2026-01-0${i}T00:00:00.000Z`,
        output: "0123456789",
      }),
    ),
  );
  return t;
}

const ids = async (res: Response) => ((await res.json()) as ExecutionJson[]).map((e) => e.id);

describe("GET /v1/jobs/:job/executions", () => {
  it("lists newest first by default with X-Total-Count", async () => {
    const { app, control } = seeded();
    const res = await app.request("/v1/jobs/alpha/executions");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-total-count")).toBe("3");
    expect(await ids(res)).toEqual(["e3", "e2", "e1"]);
    expect(control.lastParams("executions.list")).toEqual({ job: "alpha" });
  });

  it("honours paging and maps _sort=id to started_at", async () => {
    const { app, control } = seeded();
    const res = await app.request("/v1/jobs/alpha/executions?_sort=id&_order=ASC&_start=1&_end=2&jobs=alpha");
    expect(res.headers.get("x-total-count")).toBe("3");
    expect(await ids(res)).toEqual(["e2"]);
    expect(control.lastParams("executions.list")).toEqual({
      job: "alpha",
      sort: "started_at",
      order: "ASC",
      start: 1,
      end: 2,
    });
  });

  it("passes output_size_limit as a number", async () => {
    const { app, control } = seeded();
    const res = await app.request("/v1/jobs/alpha/executions?output_size_limit=4");
    expect(control.lastParams("executions.list")).toEqual({ job: "alpha", output_size_limit: 4 });
    const first = ((await res.json()) as ExecutionJson[])[0];
    expect(first).toMatchObject({ output: "6789", output_truncated: true });
  });

  it.each([
    ["output_size_limit=abc", "output_size_limit"],
    ["output_size_limit=-5", "output_size_limit"],
    ["_start=x", "_start"],
    ["_end=99999999999999999999", "_end"],
  ])("refuses %s with a 400 naming %s", async (query, field) => {
    const { app, control } = seeded();
    const res = await app.request(`/v1/jobs/alpha/executions?${query}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error).toMatchObject({ code: "VALIDATION", field });
    expect(control.calls).toEqual([]);
  });

  it("404 when the job does not exist", async () => {
    const { app } = seeded();
    const res = await app.request("/v1/jobs/zeta/executions");
    expect(res.status).toBe(404);
    expect(((await res.json()) as ErrorBody).error.code).toBe("NOT_FOUND");
  });
});

describe("other execution routes", () => {
  it("GET /v1/jobs/:job/executions/:execution returns the full execution", async () => {
    const { app, control } = seeded();
    const res = await app.request("/v1/jobs/alpha/executions/e2");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: "e2", output: "0123456789" });
    expect(control.lastParams("executions.get")).toEqual({ job: "alpha", id: "e2" });
    expect((await app.request("/v1/jobs/alpha/executions/e9")).status).toBe(404);
  });

  it("DELETE /v1/jobs/:job/executions clears them and returns the job with reset counters", async () => {
    const { app, control } = seeded();
    const res = await app.request("/v1/jobs/alpha/executions", { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      name: "alpha",
      success_count: 0,
      error_count: 0,
    } satisfies Partial<JobJson>);
    expect(control.executions.has("alpha")).toBe(false);
    expect((await app.request("/v1/jobs/zeta/executions", { method: "DELETE" })).status).toBe(404);
  });
});
