import type { Context, MiddlewareHandler } from "hono";
import { bearerToken, type Caller } from "../../shared";

declare module "hono" {
  interface ContextVariableMap {
    /** The API client this request is for, passed with every control-api call. */
    caller: Caller;
  }
}

/** How the host learns the API client's address (the socket's peer in Node, CF-Connecting-IP in a Worker). */
export type ClientAddress = (c: Context) => string;

/**
 * Records the request's caller (its bearer token and address) for the routes to pass to control,
 * which checks the token. The edge itself never decides who may do what.
 */
export function caller(clientAddress: ClientAddress): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header("authorization");
    let client = "";
    try {
      client = clientAddress(c);
    } catch {
      // An address the host cannot tell is "", never a failed request.
    }
    c.set("caller", header === undefined ? { client } : { client, token: bearerToken(header) });
    await next();
  };
}
