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

  it("passes the caller on, believing the edge's client address and node mark only with the secret", async () => {
    const seen: unknown[] = [];
    const spy = {
      call: async (_m: string, _p: unknown, caller: unknown) => {
        seen.push(caller);
        return {};
      },
    };
    const headers = {
      "x-dkron-caller-token": "dkt.user",
      "x-dkron-caller-client": "203.0.113.9",
      "x-dkron-caller-internal": "1",
    };
    for (const secret of ["s3cret", ""]) {
      const app = createControlApp({
        service: spy as unknown as ControlService,
        logger: silentLogger,
        secret,
        peerAddress: () => "198.51.100.1",
      });
      await app.request("/_control/rpc/pause.get", {
        method: "POST",
        headers: { ...headers, ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
        body: "{}",
      });
    }
    expect(seen).toEqual([
      { token: "dkt.user", client: "203.0.113.9", internal: true },
      { token: "dkt.user", client: "198.51.100.1" },
    ]);
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
