/**
 * Who a control-api call is made for: the API client behind the edge. The edge passes it with every
 * call, and control authenticates and authorizes it there, so no edge (a Worker, a control node's
 * own /v1) can serve a route without the caller's token being checked where the state is.
 */
export interface Caller {
  /** The bearer token the API client presented (the secret itself); absent when it sent none. */
  token?: string;
  /** The API client's address as the edge saw it; "" when unknown. */
  client: string;
  /**
   * A control node's own call (a follower's batch of token uses). The control-api believes it only
   * from a peer that presented the service secret, and it opens nothing but internal methods.
   */
  internal?: boolean;
}

/** Header carrying the API client's bearer token on a control-api request (the edge's own secret rides in Authorization). */
export const CALLER_TOKEN_HEADER = "x-dkron-caller-token";
/** Header marking a control node's own call (see Caller.internal). */
export const CALLER_INTERNAL_HEADER = "x-dkron-caller-internal";
/** Header carrying the API client's address on a control-api request. */
export const CALLER_CLIENT_HEADER = "x-dkron-caller-client";

/** A caller with no token, from an unknown address. */
export const ANONYMOUS_CALLER: Caller = { client: "" };
