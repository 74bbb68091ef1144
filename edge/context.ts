import type { Context } from "hono";
import type { Clock, ControlClient, Logger } from "../shared";

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
   * Reads a request body as text, failing with TOO_LARGE past `maxBytes`; defaults to reading the web
   * Request. A host with a cheaper path to the raw bytes (Node: the IncomingMessage) passes its own.
   */
  bodyText?: (c: Context, maxBytes: number) => Promise<string>;
  /** Largest request body accepted, in bytes (default 1 MiB); a bigger one gets 413. */
  maxBodyBytes?: number;
  /** The API client's address (for the audit log and the failed-auth limit); "" when unset. */
  clientAddress?: (c: Context) => string;
  /** The dashboard's clock ("3 min ago", schedule previews); the system clock by default. */
  clock?: Clock;
  /** Secret random bytes (the dashboard's CSRF tokens); Web Crypto by default. */
  randomBytes?: (n: number) => Uint8Array;
}

/** Options with defaults filled, as routes and middleware see them. */
export interface EdgeDeps {
  control: ControlClient;
  nodeName: () => string | Promise<string>;
  version: string;
  logger: Logger;
  /** Reads the request body as text within maxBodyBytes. */
  bodyText: (c: Context) => Promise<string>;
  maxBodyBytes: number;
  clock: Clock;
  randomBytes: (n: number) => Uint8Array;
}
