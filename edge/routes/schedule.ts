import { Hono } from "hono";
import type { EdgeDeps } from "../context";
import { parseSchedulePreviewQuery, searchParams } from "./query";

/**
 * GET /v1/schedule/preview: the next runs of a schedule that is not saved yet, with the zone's
 * offsets and the DST rule it would run by. Control computes it, so the answer is what the build
 * that would store the job does.
 */
export function scheduleRoutes(deps: EdgeDeps): Hono {
  const { control } = deps;
  const r = new Hono();
  r.get("/v1/schedule/preview", async (c) =>
    c.json(await control.call("schedule.preview", parseSchedulePreviewQuery(searchParams(c)), c.var.caller)),
  );
  return r;
}
