import { describe, expect, it } from "vitest";
import { buildExecution } from "../testing/fake-control";
import { testApp } from "../testing/test-app";

describe("node and cluster routes", () => {
  it("GET /v1 and /v1/ return control's status plus the edge's name and version", async () => {
    const { app } = testApp({ version: "1.2.3" });
    for (const path of ["/v1", "/v1/"]) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body.agent).toEqual({ name: "node-1", version: "0.1.0" });
      expect(body.edge).toEqual({ name: "edge-test", version: "1.2.3" });
      expect(body).toHaveProperty("raft.state", "leader");
    }
  });

  it("GET /v1/members lists members with X-Total-Count", async () => {
    const { app } = testApp();
    const res = await app.request("/v1/members");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-total-count")).toBe("2");
    const body = (await res.json()) as { Name: string; statusText: string }[];
    expect(body.map((m) => m.Name)).toEqual(["node-1", "node-2"]);
    expect(body[0]?.statusText).toBe("alive");
  });

  it("GET /v1/leader returns the leader, or a 404 JSON error when there is none", async () => {
    const { app, control } = testApp();
    const res = await app.request("/v1/leader");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { Name: string }).Name).toBe("node-1");
    control.leader = null;
    const none = await app.request("/v1/leader");
    expect(none.status).toBe(404);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });

  it("GET /v1/isleader answers from raft.state", async () => {
    const { app, control } = testApp();
    const leader = await app.request("/v1/isleader");
    expect(leader.status).toBe(200);
    expect(await leader.json()).toBe("I am a leader");
    control.raftState = "follower";
    const follower = await app.request("/v1/isleader");
    expect(follower.status).toBe(404);
    expect(await follower.json()).toBe("I am a follower");
  });

  it("POST /v1/leave calls control's leave", async () => {
    const { app, control } = testApp();
    const res = await app.request("/v1/leave", { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ left: "node-1" });
    expect(control.calls.map((c) => c.method)).toEqual(["leave"]);
  });

  it("GET /v1/busy lists running executions with X-Total-Count", async () => {
    const { app, control } = testApp();
    control.busy = [buildExecution({ id: "e1", job_name: "a", state: "running" })];
    const res = await app.request("/v1/busy");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-total-count")).toBe("1");
    expect(((await res.json()) as { id: string }[])[0]?.id).toBe("e1");
  });

  it("pause, status and unpause round-trip through control", async () => {
    const { app, control } = testApp();
    expect(await (await app.request("/v1/pause")).json()).toEqual({ paused: false });
    const paused = await app.request("/v1/pause", { method: "POST" });
    expect(paused.status).toBe(200);
    expect(await paused.json()).toEqual({ paused: true });
    expect(control.paused).toBe(true);
    expect(await (await app.request("/v1/pause")).json()).toEqual({ paused: true });
    expect(await (await app.request("/v1/unpause", { method: "POST" })).json()).toEqual({ paused: false });
    expect(control.lastParams("pause.set")).toEqual({ paused: false });
  });

  it("GET /v1/unpause is not a route", async () => {
    const { app } = testApp();
    expect((await app.request("/v1/unpause")).status).toBe(404);
  });
});
