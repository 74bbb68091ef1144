import type { Context } from "hono";
import type { ControlClient, Logger } from "../shared";

/** What createApp needs from the outside world; only entry files (worker.ts, control/main.ts) build it. */
export interface EdgeOptions {
  /** Client for the edge-to-control contract; the edge's only way to reach state. */
  control: ControlClient;
  /** Name reported in X-Whom; defaults to "edge". Called per request, so the caller owns any caching. */
  nodeName?: () => string | Promise<string>;
  /** Version of this edge build, reported beside the control node's in GET /v1. */
  version?: string;
  /** Where unexpected errors are logged; silent by default. */
  logger?: Logger;
  /**
   * Reads a request body as text; defaults to `c.req.text()`. A host with a cheaper path to the raw
   * bytes (Node: the IncomingMessage) passes its own.
   */
  bodyText?: (c: Context) => Promise<string>;
}

/** Options with defaults filled, as routes and middleware see them. */
export interface EdgeDeps {
  control: ControlClient;
  nodeName: () => string | Promise<string>;
  version: string;
  logger: Logger;
  bodyText: (c: Context) => Promise<string>;
}
