import { type Context, Hono } from "hono";
import type { ControlInput, JobJson } from "../../shared";
import type { EdgeDeps } from "../context";
import { readJsonBody } from "./body";
import { hasFlag, parseJobGetQuery, parseJobListQuery, renameQueryField, searchParams } from "./query";

/** Jobs per control call when GET /v1/jobs streams a wide or unpaged list. */
export const STREAM_PAGE = 200;

/** Job routes: list, create or replace, get, delete, run, toggle. Paths are absolute. */
export function jobRoutes(deps: EdgeDeps): Hono {
  const { control } = deps;
  const r = new Hono();

  r.get("/v1/jobs", async (c) => {
    const params = parseJobListQuery(searchParams(c));
    const start = params.start ?? 0;
    const list = (p: ControlInput<"jobs.list">) =>
      control.call("jobs.list", p, c.var.caller).catch((e: unknown) => {
        throw renameQueryField(e);
      });
    // A page the size a UI asks for is answered in one piece.
    if (params.end !== undefined && params.end - start <= STREAM_PAGE) {
      const page = await list(params);
      c.header("X-Total-Count", String(page.total));
      return c.json(page.items);
    }
    // A wider or unpaged list streams, one control call per page: no call renders all jobs at once,
    // and other requests are served between pages. Not a snapshot: a job created or deleted while
    // it streams can shift the pages after it (a client that needs one pages with _start/_end).
    const end = params.end ?? Number.POSITIVE_INFINITY;
    const pageAt = (from: number) => list({ ...params, start: from, end: Math.min(end, from + STREAM_PAGE) });
    const first = await pageAt(start);
    c.header("X-Total-Count", String(first.total));
    c.header("Content-Type", "application/json");
    const enc = new TextEncoder();
    let next: { items: JobJson[] } | undefined = first;
    let at = start;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        const page = next ?? (await pageAt(at));
        next = undefined;
        const items = page.items.map((j) => JSON.stringify(j)).join(",");
        const head = at === start ? "[" : "";
        const more = page.items.length === STREAM_PAGE && at + STREAM_PAGE < end;
        at += page.items.length;
        const text = `${head}${sent > 0 && items ? "," : ""}${items}${more ? "" : "]"}`;
        sent += page.items.length;
        ctl.enqueue(enc.encode(text));
        if (!more) ctl.close();
      },
    });
    return c.body(body);
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
