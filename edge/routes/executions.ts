import { Hono } from "hono";
import type { EdgeDeps } from "../context";
import { parseExecutionListQuery, renameQueryField, searchParams } from "./query";

/** Execution routes of a job: list (paged), clear, get one. Paths are absolute. */
export function executionRoutes(deps: EdgeDeps): Hono {
  const { control } = deps;
  const r = new Hono();

  r.get("/v1/jobs/:job/executions", async (c) => {
    const params = parseExecutionListQuery(searchParams(c), c.req.param("job"));
    const page = await control.call("executions.list", params, c.var.caller).catch((e: unknown) => {
      throw renameQueryField(e);
    });
    c.header("X-Total-Count", String(page.total));
    return c.json(page.items);
  });

  r.delete("/v1/jobs/:job/executions", async (c) =>
    c.json(await control.call("executions.clear", { job: c.req.param("job") }, c.var.caller)),
  );

  r.get("/v1/jobs/:job/executions/:execution", async (c) =>
    c.json(
      await control.call(
        "executions.get",
        { job: c.req.param("job"), id: c.req.param("execution") },
        c.var.caller,
      ),
    ),
  );

  return r;
}
