/**
 * POST /v1/runners/join against a real control node (tokens on): anyone may call it, so a made-up,
 * expired or spent join token must be refused before anything is proposed — no log entry, no audit
 * row — while a good token still registers the runner in one entry.
 */
import { afterAll, describe, expect, it } from "vitest";
import { type AgentProcess, adminTokenOf, startAgent } from "../helpers/agent-process";
import { tempDir } from "../helpers/tmp";

const dir = tempDir("dkron-join-api-");
let agent: AgentProcess | undefined;

afterAll(async () => {
  await agent?.kill();
  dir.cleanup();
});

type Status = { raft: { last_log_index: number; applied_index: number } };

describe("POST /v1/runners/join", () => {
  it("refuses bad tokens with 401 and writes nothing to the log; a good one registers", async () => {
    agent = await startAgent([
      "--bootstrap-expect",
      "1",
      "--node-name",
      "n1",
      "--data-dir",
      dir.path,
      "--log-level",
      "warn",
    ]);
    const admin = await adminTokenOf(dir.path);
    const auth = { authorization: `Bearer ${admin}`, "content-type": "application/json" };
    const api = (path: string, init?: RequestInit) => fetch(`${agent!.url}${path}`, init);
    const lastIndex = async () =>
      ((await (await api("/v1", { headers: auth })).json()) as Status).raft.last_log_index;
    const join = (token: string, name: string) =>
      api("/v1/runners/join", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token, name, tags: {} }),
      });

    const made = await api("/v1/runner-tokens", {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ single_use: true }),
    });
    expect(made.status, await made.clone().text()).toBe(201);
    const good = ((await made.json()) as { token: string }).token;
    const [, id] = good.split(".");
    const before = await lastIndex();

    // Unknown id, the right id with a wrong secret: 401 naming the token field, nothing written.
    for (const token of [
      "drj.AAAAAAAAAAAAAAAA.not-the-secret-not-the-secret-xx",
      `drj.${id}.not-the-secret-not-the-secret-xx`,
    ]) {
      for (let i = 0; i < 10; i++) {
        const r = await join(token, `intruder-${i}`);
        expect(r.status).toBe(401);
        expect(((await r.json()) as { error: { field?: string } }).error.field).toBe("token");
      }
    }
    expect(await lastIndex()).toBe(before);

    // The good token registers in one entry, and is then spent: the second use writes nothing.
    const ok = await join(good, "r1");
    expect(ok.status, await ok.clone().text()).toBeLessThan(300);
    const afterJoin = await lastIndex();
    expect(afterJoin).toBe(before + 1);
    const again = await join(good, "r2");
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: { message: string } }).error.message).toMatch(
      /single-use and is already used/,
    );
    expect(await lastIndex()).toBe(afterJoin);

    // Nothing about the refused attempts in the audit log; the one join is there.
    const audit = (await (await api("/v1/audit", { headers: auth })).json()) as {
      action: string;
      target: string;
    }[];
    const joins = audit.filter((a) => a.action === "runners.join");
    expect(joins.map((a) => a.target)).toEqual(["r1"]);
  });
});
