import type { MiddlewareHandler } from "hono";

/** Fallback when the node-name callback fails: a header must never turn a good answer into a 500. */
const UNKNOWN = "unknown";

/** Calls the node-name callback, falling back to "unknown" if it throws or rejects. */
export async function resolveNodeName(nodeName: () => string | Promise<string>): Promise<string> {
  try {
    return await nodeName();
  } catch {
    return UNKNOWN;
  }
}

/** Sets `X-Whom: <node name>` on every response (Dkron's MetaMiddleware), errors and preflights included. */
export function whom(nodeName: () => string | Promise<string>): MiddlewareHandler {
  return async (c, next) => {
    const name = await resolveNodeName(nodeName);
    await next();
    c.res.headers.set("X-Whom", name);
  };
}
