import {
  type ControlClient,
  ControlParams,
  createControlClient,
  DEFAULT_LEADER_HOPS,
  type FetchLike,
  followLeader,
  parseOrThrow,
} from "../../shared";
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
  // A client of one other node; following leaders is left to followLeader below.
  const remote = (baseUrl: string) =>
    createControlClient({
      fetch: opts.fetch,
      baseUrl,
      maxRedirects: 0,
      ...(opts.secret ? { secret: opts.secret } : {}),
    });
  return {
    async call(method, params, caller) {
      const parsed = parseOrThrow(ControlParams[method], params ?? {}, method);
      // In-process first; then the leader it names, and as many hops beyond it as the edge's client.
      return followLeader(
        (leader) =>
          leader === undefined
            ? opts.service.call(method, parsed as never, caller)
            : remote(leader).call(method, params, caller),
        1 + DEFAULT_LEADER_HOPS,
      );
    },
  };
}
