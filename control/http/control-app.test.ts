import { describe, expect, it } from "vitest";
import { silentLogger } from "../../shared/logger";
import { createControlApp, errorResponse } from "./control-app";
import type { ControlService } from "./control-service";

const service = { call: async () => ({ paused: false }) } as unknown as ControlService;

function post(secret: string, authorization?: string) {
  const app = createControlApp({ service, logger: silentLogger, secret });
  return app.request("/_control/rpc/pause.get", {
    method: "POST",
    headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
    body: "{}",
  });
}

describe("control app", () => {
  it("asks for the service secret when it has one", async () => {
    const cases: [string, string | undefined, number][] = [
      ["s3cret", "Bearer s3cret", 200],
      ["s3cret", "bearer s3cret", 200],
      ["s3cret", undefined, 401],
      ["s3cret", "Bearer s3cre", 401],
      ["s3cret", "Bearer s3cret!", 401],
      ["", undefined, 200],
    ];
    for (const [secret, auth, status] of cases) {
      const res = await post(secret, auth);
      expect(res.status, `${secret} / ${auth}`).toBe(status);
      if (status === 401) expect(await res.json()).toMatchObject({ error: { code: "UNAUTHORIZED" } });
    }
  });

  it("maps an error from the wire (a plain object) by its code, keeping its details", () => {
    const { body, status } = errorResponse(
      { code: "NOT_LEADER", message: "no", leader: "http://b:1" },
      silentLogger,
    );
    expect(status).toBe(421);
    expect(body).toEqual({ error: { code: "NOT_LEADER", message: "no", leader: "http://b:1" } });
    expect(errorResponse(new Error("bug"), silentLogger).status).toBe(500);
  });
});
