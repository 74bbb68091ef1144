import { describe, expect, it } from "vitest";
import { createControlClient, type FetchLike } from "./control-client";
import { AppError } from "./errors";

/** A fetch where each origin in `leaders` answers NOT_LEADER naming the given leader; others answer ok. */
function cluster(leaders: Record<string, string>) {
  const calls: { url: string; auth: string | null }[] = [];
  const fetch: FetchLike = async (input, init) => {
    const url = String(input);
    calls.push({ url, auth: new Headers(init?.headers).get("authorization") });
    const origin = new URL(url).origin;
    const leader = leaders[origin];
    if (leader === undefined) return Response.json({ paused: true });
    return Response.json(new AppError("NOT_LEADER", "not the leader", { leader }).toJSON(), { status: 421 });
  };
  return { fetch, calls };
}

describe("control client", () => {
  it("follows NOT_LEADER to the leader, with the secret at every hop", async () => {
    const c = cluster({ "http://a:1": "http://b:1", "http://b:1": "c:1" });
    const client = createControlClient({ fetch: c.fetch, baseUrl: "http://a:1/", secret: "s" });
    await expect(client.call("pause.get", {})).resolves.toEqual({ paused: true });
    expect(c.calls).toEqual([
      { url: "http://a:1/_control/rpc/pause.get", auth: "Bearer s" },
      { url: "http://b:1/_control/rpc/pause.get", auth: "Bearer s" },
      { url: "http://c:1/_control/rpc/pause.get", auth: "Bearer s" },
    ]);
  });

  it("gives up after maxRedirects with the NOT_LEADER error", async () => {
    const c = cluster({ "http://a:1": "http://b:1", "http://b:1": "http://a:1" });
    const client = createControlClient({ fetch: c.fetch, baseUrl: "http://a:1", maxRedirects: 2 });
    await expect(client.call("pause.get", {})).rejects.toMatchObject({ code: "NOT_LEADER" });
    expect(c.calls).toHaveLength(3);
  });

  it("answers UNAVAILABLE when the node cannot be reached", async () => {
    const fetch: FetchLike = async () => {
      throw new TypeError("fetch failed");
    };
    const client = createControlClient({ fetch, baseUrl: "http://a:1" });
    await expect(client.call("pause.get", {})).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });
});
