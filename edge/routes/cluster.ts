import { type Context, Hono } from "hono";
import { AppError } from "../../shared";
import type { EdgeDeps } from "../context";
import { resolveNodeName } from "../middleware";

/** Node and cluster routes: status, members, leader, leave, busy, pause. Paths are absolute. */
export function clusterRoutes(deps: EdgeDeps): Hono {
  const { control } = deps;
  const r = new Hono();

  const status = async (c: Context) => {
    const s = await control.call("status", {}, c.var.caller);
    // `edge` is our addition: in a Worker the answering edge and the control node are different
    // processes, and an operator needs both versions when they disagree.
    return c.json({ ...s, edge: { name: await resolveNodeName(deps.nodeName), version: deps.version } });
  };
  r.get("/v1", status);
  r.get("/v1/", status);

  r.get("/v1/members", async (c) => {
    const members = await control.call("members.list", {}, c.var.caller);
    c.header("X-Total-Count", String(members.length));
    return c.json(members);
  });

  // Dkron answers 500 with body `null` here (AbortWithError before the 404); a 404 error is what it meant.
  r.get("/v1/leader", async (c) => {
    const leader = await control.call("leader.get", {}, c.var.caller);
    if (!leader) throw new AppError("NOT_FOUND", "no leader is known to this node");
    return c.json(leader);
  });

  r.get("/v1/isleader", async (c) => {
    const s = await control.call("status", {}, c.var.caller);
    return s.raft.state === "leader" ? c.json("I am a leader", 200) : c.json("I am a follower", 404);
  });

  r.post("/v1/leave", async (c) => c.json(await control.call("leave", {}, c.var.caller)));

  r.get("/v1/busy", async (c) => {
    const running = await control.call("busy", {}, c.var.caller);
    c.header("X-Total-Count", String(running.length));
    return c.json(running);
  });

  r.get("/v1/pause", async (c) => c.json(await control.call("pause.get", {}, c.var.caller)));
  r.post("/v1/pause", async (c) => c.json(await control.call("pause.set", { paused: true }, c.var.caller)));
  r.post("/v1/unpause", async (c) =>
    c.json(await control.call("pause.set", { paused: false }, c.var.caller)),
  );

  return r;
}
