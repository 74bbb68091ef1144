import { Hono } from "hono";
import type { EdgeDeps } from "../context";
import { readJsonBody } from "./body";

/** Runner join tokens (admin), the join exchange (the join token is the credential) and registered runners (admin). */
export function runnerRoutes(deps: EdgeDeps): Hono {
  const { control } = deps;
  const r = new Hono();

  // The answer is the only time the token's secret is shown.
  r.post("/v1/runner-tokens", async (c) => {
    const token = await readJsonBody(c, deps.bodyText);
    const created = await control.call("runner-tokens.create", { token }, c.var.caller);
    c.header("Cache-Control", "no-store");
    return c.json(created, 201);
  });

  r.get("/v1/runner-tokens", async (c) => {
    const list = await control.call("runner-tokens.list", {}, c.var.caller);
    c.header("X-Total-Count", String(list.length));
    return c.json(list);
  });

  r.delete("/v1/runner-tokens/:id", async (c) =>
    c.json(await control.call("runner-tokens.revoke", { id: c.req.param("id") }, c.var.caller)),
  );

  // A runner's first call: the answer carries its credential, once.
  r.post("/v1/runners/join", async (c) => {
    const join = await readJsonBody(c, deps.bodyText);
    const joined = await control.call("runners.join", { join }, c.var.caller);
    c.header("Cache-Control", "no-store");
    return c.json(joined, 201);
  });

  r.get("/v1/runners", async (c) => {
    const list = await control.call("runners.list", {}, c.var.caller);
    c.header("X-Total-Count", String(list.length));
    return c.json(list);
  });

  r.delete("/v1/runners/:name", async (c) =>
    c.json(await control.call("runners.revoke", { name: c.req.param("name") }, c.var.caller)),
  );

  return r;
}
