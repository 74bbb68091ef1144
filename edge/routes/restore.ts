import { Hono } from "hono";
import type { EdgeDeps } from "../context";
import { readRestoreFile } from "./body";

/** POST /v1/restore: a multipart `file` holding a JSON array of jobs, written parents first by control. */
export function restoreRoutes(deps: EdgeDeps): Hono {
  const r = new Hono();
  r.post("/v1/restore", async (c) => {
    const jobs = await readRestoreFile(c, deps.maxBodyBytes);
    // A plain JSON array of result strings; Dkron double-encodes it as a JSON string.
    return c.json(await deps.control.call("restore", { jobs }, c.var.caller));
  });
  return r;
}
