import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Logger } from "../../shared";
import { AppError, httpStatusOf, isAppError, toAppError } from "../../shared";

/** Coerces anything thrown into an AppError; only unknown errors become INTERNAL. */
export function asAppError(err: unknown): AppError {
  // One of our codes (an AppError, or a plain object from a wire body): keep its code, message, details.
  if (isAppError(err)) return toAppError(err);
  if (err instanceof HTTPException) {
    // Hono's own 4xx (e.g. a body limit) stay client errors; the status still comes from our table.
    const code = err.status < 500 ? (err.status === 404 ? "NOT_FOUND" : "BAD_REQUEST") : "INTERNAL";
    return new AppError(code, err.message || `HTTP ${err.status}`, undefined, { cause: err });
  }
  return new AppError("INTERNAL", "internal error in the API edge", undefined, { cause: err });
}

/** Renders an AppError as `{"error":{code,message,...}}` with the status from httpStatusOf. */
export function errorResponse(c: Context, err: AppError): Response {
  // What a client needs to act on: when to retry a 429, how to authenticate after a 401.
  const retry = err.details?.retry_after_s;
  if (err.code === "RATE_LIMITED" && typeof retry === "number") c.header("Retry-After", String(retry));
  // A webhook is signed, not token-authenticated: a Bearer challenge would send its sender astray.
  if (err.code === "UNAUTHORIZED" && !c.req.path.startsWith("/hooks/"))
    c.header("WWW-Authenticate", 'Bearer realm="dkron"');
  // The cast is safe: every value of httpStatusOf is a literal HTTP status.
  return c.json(err.toJSON(), httpStatusOf[err.code] as 400);
}

/** The app's onError: every failure is JSON with a stable code; bugs are logged, not echoed. */
export function onError(logger: Logger): ErrorHandler {
  return (err, c) => {
    const appErr = asAppError(err);
    if (appErr.code === "INTERNAL" && !isAppError(err)) {
      logger.error("unhandled error in API edge", {
        req: `${c.req.method} ${c.req.path}`,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
    }
    return errorResponse(c, appErr);
  };
}

/** Unknown routes answer a NOT_FOUND error body instead of Hono's plain-text 404. */
export const notFound: NotFoundHandler = (c) =>
  errorResponse(c, new AppError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`));
