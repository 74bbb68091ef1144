import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";

/** Fallback when the node-name callback fails: a header must never turn a good answer into a 500. */
const UNKNOWN = "unknown";

/** Sets `X-Whom: <node name>` on every response (Dkron's MetaMiddleware), errors and preflights included. */
export function whom(nodeName: () => string | Promise<string>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    let name: string;
    try {
      name = await nodeName();
    } catch {
      name = UNKNOWN;
    }
    c.set("whom", name);
    await next();
    c.res.headers.set("X-Whom", name);
  };
}
