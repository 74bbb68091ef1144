import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";

/** Headers a browser client must be able to read; react-admin throws without X-Total-Count. */
export const EXPOSED_HEADERS = ["X-Total-Count", "X-Whom", "Location"];

/**
 * CORS for every origin, as Dkron (AllowAllOrigins). Allowed request headers are reflected from the
 * preflight, which is what Dkron's `AllowHeaders: ["*"]` amounts to.
 */
export function apiCors(): MiddlewareHandler {
  return cors({ origin: "*", exposeHeaders: EXPOSED_HEADERS, maxAge: 600 });
}
