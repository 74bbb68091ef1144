import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Logger } from "../../shared";
import {
  AppError,
  bearerToken,
  CALLER_CLIENT_HEADER,
  CALLER_INTERNAL_HEADER,
  CALLER_TOKEN_HEADER,
  type Caller,
  type ControlMethod,
  ControlParams,
  httpStatusOf,
  isAppError,
  parseOrThrow,
  safeEqual,
  toAppError,
} from "../../shared";
import type { ControlService } from "./control-service";

/** Options of the control app. */
export interface ControlAppOptions {
  service: ControlService;
  logger: Logger;
  /** Service secret the edge must present over the network; empty = none required. */
  secret: string;
  /** The connecting peer's address, used as the client's when no service secret vouches for the edge. */
  peerAddress?: (c: Context) => string;
}

/** Maps any thrown value to the JSON error body and status (the one mapping, from shared/errors). */
export function errorResponse(e: unknown, logger: Logger): { body: unknown; status: ContentfulStatusCode } {
  if (isAppError(e))
    return { body: toAppError(e).toJSON(), status: httpStatusOf[e.code] as ContentfulStatusCode };
  logger.error("internal error", { err: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  return { body: new AppError("INTERNAL", "internal error; see the node's log").toJSON(), status: 500 };
}

/** The control node's HTTP surface for the edge: POST /_control/rpc/<method>. */
export function createControlApp(opts: ControlAppOptions): Hono {
  const app = new Hono();
  app.post("/_control/rpc/:method", async (c) => {
    try {
      if (opts.secret) {
        if (!safeEqual(bearerToken(c.req.header("authorization")), opts.secret))
          throw new AppError("UNAUTHORIZED", "control-api: missing or wrong service secret");
      }
      const method = c.req.param("method");
      if (!Object.hasOwn(ControlParams, method))
        throw new AppError("NOT_FOUND", `control-api: unknown method "${method}"`);
      const raw = await c.req.json().catch(() => {
        throw new AppError("BAD_REQUEST", "control-api: body is not JSON");
      });
      const m = method as ControlMethod;
      const params = parseOrThrow(ControlParams[m], raw, m);
      // The API client's token and address are the edge's to pass on; control checks the token.
      const token = c.req.header(CALLER_TOKEN_HEADER);
      // The client address an edge reports is believed only from an edge that proved the secret;
      // otherwise anyone could rotate it to dodge the failed-token limit.
      const caller: Caller = {
        client: opts.secret ? (c.req.header(CALLER_CLIENT_HEADER) ?? "") : (opts.peerAddress?.(c) ?? ""),
        ...(token !== undefined && { token }),
        // Only a peer holding the service secret may speak for a control node.
        ...(opts.secret && c.req.header(CALLER_INTERNAL_HEADER) === "1" && { internal: true }),
      };
      const result = await opts.service.call(m, params as never, caller);
      return c.json(result as object);
    } catch (e) {
      const { body, status } = errorResponse(e, opts.logger);
      return c.json(body as object, status);
    }
  });
  return app;
}
