import { ControlParams } from "../../shared/control-api";
import { type ControlClient, createControlClient, type FetchLike } from "../../shared/control-client";
import { isAppError } from "../../shared/errors";
import { parseOrThrow } from "../../shared/validation";
import type { ControlService } from "./control-service";

/** Options of the edge's client on a control node. */
export interface LocalControlClientOptions {
  service: ControlService;
  /** Reaches another node (the leader) over the network. */
  fetch: FetchLike;
  /** Service secret presented to other nodes. */
  secret?: string;
}

/**
 * The edge's control-api client inside a control node: calls the service in-process (no Request,
 * no JSON round trip: a write through the API costs one parse of its body), with the same parameter
 * validation the RPC route does. A NOT_LEADER answer is followed to the leader over the network, as
 * the Worker's client does.
 */
export function createLocalControlClient(opts: LocalControlClientOptions): ControlClient {
  return {
    async call(method, params) {
      const parsed = parseOrThrow(ControlParams[method], params ?? {}, method);
      try {
        return await opts.service.call(method, parsed as never);
      } catch (e) {
        const leader = isAppError(e) && e.code === "NOT_LEADER" ? e.details?.leader : undefined;
        if (typeof leader !== "string" || !leader) throw e;
        const remote = createControlClient({
          fetch: opts.fetch,
          baseUrl: leader.startsWith("http") ? leader : `http://${leader}`,
          ...(opts.secret ? { secret: opts.secret } : {}),
        });
        return remote.call(method, params);
      }
    },
  };
}
