import { describe, expect, it } from "vitest";
import type { FetchLike } from "../../shared/control-client";
import { AppError } from "../../shared/errors";
import type { ControlService } from "./control-service";
import { createLocalControlClient } from "./local-control-client";

function service(error?: AppError): ControlService {
  return {
    call: async () => {
      if (error) throw error;
      return { paused: false };
    },
  } as unknown as ControlService;
}

describe("local control client", () => {
  it("answers in-process on the leader", async () => {
    const fetch: FetchLike = async () => {
      throw new Error("no network expected");
    };
    const client = createLocalControlClient({ service: service(), fetch });
    await expect(client.call("pause.get", {})).resolves.toEqual({ paused: false });
  });

  it("follows NOT_LEADER to the leader over the network, then on from there", async () => {
    const urls: string[] = [];
    const fetch: FetchLike = async (input) => {
      urls.push(String(input));
      if (urls.length === 1)
        return Response.json(new AppError("NOT_LEADER", "moved", { leader: "http://c:1" }).toJSON(), {
          status: 421,
        });
      return Response.json({ paused: true });
    };
    const notLeader = new AppError("NOT_LEADER", "not the leader", { leader: "b:1" });
    const client = createLocalControlClient({ service: service(notLeader), fetch, secret: "s" });
    await expect(client.call("pause.get", {})).resolves.toEqual({ paused: true });
    expect(urls).toEqual(["http://b:1/_control/rpc/pause.get", "http://c:1/_control/rpc/pause.get"]);
  });

  it("throws a NOT_LEADER that names no leader, and other errors, as they are", async () => {
    const fetch: FetchLike = async () => Response.json({});
    for (const e of [
      new AppError("NOT_LEADER", "no leader yet", { leader: "" }),
      new AppError("NOT_FOUND", "x"),
    ]) {
      const client = createLocalControlClient({ service: service(e), fetch });
      await expect(client.call("pause.get", {})).rejects.toBe(e);
    }
  });
});
