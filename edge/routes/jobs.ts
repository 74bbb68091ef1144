import { type Context, Hono } from "hono";
import type { EdgeDeps } from "../context";
import { readJsonBody } from "./body";
import { hasFlag, parseJobGetQuery, parseJobListQuery, renameQueryField, searchParams } from "./query";

/** Job routes: list, create or replace, get, delete, run, toggle. Paths are absolute. */
export function jobRoutes(deps: EdgeDeps): Hono {
  const { control } = deps;
  const r = new Hono();

  r.get("/v1/jobs", async (c) => {
    const params = parseJobListQuery(searchParams(c));
    const page = await control.call("jobs.list", params, c.var.caller).catch((e: unknown) => {
      throw renameQueryField(e);
    });
    c.header("X-Total-Count", String(page.total));
    return c.json(page.items);
  });

  // POST and PATCH /v1/jobs and PUT /v1/jobs/:job share Dkron's create-or-replace handler. The body
  // is validated by control, not here: a Worker may be deployed apart from control, and a second copy
  // of the rules at the edge would drift from the build that stores the job.
  const put = async (c: Context, pathName?: string) => {
    const body = await readJsonBody(c, deps.bodyText);
    const job = await control.call(
      "jobs.put",
      {
        job: body,
        runoncreate: hasFlag(searchParams(c), "runoncreate"),
        ...(pathName !== undefined && { path_name: pathName }),
      },
      c.var.caller,
    );
    // Dkron sets Location to the raw request URI plus the name (so `?runoncreate` or `/v1/jobs/x`
    // end up inside it); the job's own URL is what a client can follow.
    c.header("Location", `/v1/jobs/${encodeURIComponent(job.name)}`);
    return c.json(job, 201);
  };
  r.post("/v1/jobs", (c) => put(c));
  r.patch("/v1/jobs", (c) => put(c));
  r.put("/v1/jobs/:job", (c) => put(c, c.req.param("job")));

  r.get("/v1/jobs/:job", async (c) =>
    c.json(
      await control.call("jobs.get", parseJobGetQuery(searchParams(c), c.req.param("job")), c.var.caller),
    ),
  );

  r.delete("/v1/jobs/:job", async (c) =>
    c.json(await control.call("jobs.delete", { name: c.req.param("job") }, c.var.caller)),
  );

  // Dkron blocks until the run has finished on every target; control returns once it is started.
  const run = async (c: Context, name: string) =>
    c.json(await control.call("jobs.run", { name }, c.var.caller));
  r.post("/v1/jobs/:job", (c) => run(c, c.req.param("job")));
  r.post("/v1/jobs/:job/run", (c) => run(c, c.req.param("job")));

  r.post("/v1/jobs/:job/toggle", async (c) =>
    c.json(await control.call("jobs.toggle", { name: c.req.param("job") }, c.var.caller)),
  );

  return r;
}
