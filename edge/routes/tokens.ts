import { Hono } from "hono";
import type { EdgeDeps } from "../context";
import { readJsonBody } from "./body";
import { parseAuditQuery, searchParams } from "./query";

/** REST API tokens (admin) and the audit log (admin). Paths are absolute. */
export function tokenRoutes(deps: EdgeDeps): Hono {
  const { control } = deps;
  const r = new Hono();

  // The answer is the only time the secret is shown.
  r.post("/v1/tokens", async (c) => {
    const token = await readJsonBody(c, deps.bodyText);
    const created = await control.call("tokens.create", { token }, c.var.caller);
    c.header("Cache-Control", "no-store");
    return c.json(created, 201);
  });

  r.get("/v1/tokens", async (c) => {
    const list = await control.call("tokens.list", {}, c.var.caller);
    c.header("X-Total-Count", String(list.length));
    return c.json(list);
  });

  r.delete("/v1/tokens/:id", async (c) =>
    c.json(await control.call("tokens.revoke", { id: c.req.param("id") }, c.var.caller)),
  );

  r.get("/v1/audit", async (c) => {
    const page = await control.call("audit.list", parseAuditQuery(searchParams(c)), c.var.caller);
    c.header("X-Total-Count", String(page.total));
    return c.json(page.items);
  });

  return r;
}
