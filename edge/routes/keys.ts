import { Hono } from "hono";
import type { EdgeDeps } from "../context";
import { readJsonBody } from "./body";

/**
 * The gossip keyring (admin), Consul's keyring verbs under /v1/keys: GET lists, POST installs, PUT
 * makes primary, DELETE removes. The key travels in the JSON body, never in the URL (URLs end up in
 * access logs), and answers are never cached.
 */
export function keyRoutes(deps: EdgeDeps): Hono {
  const { control } = deps;
  const r = new Hono();

  r.get("/v1/keys", async (c) => {
    const list = await control.call("keys.list", {}, c.var.caller);
    c.header("Cache-Control", "no-store");
    return c.json(list);
  });

  for (const [method, op] of [
    ["post", "keys.install"],
    ["put", "keys.use"],
    ["delete", "keys.remove"],
  ] as const)
    r[method]("/v1/keys", async (c) => {
      const body = await readJsonBody(c, deps.bodyText);
      const list = await control.call(op, { body }, c.var.caller);
      c.header("Cache-Control", "no-store");
      return c.json(list);
    });

  return r;
}
