import { Hono } from "hono";
import { silentLogger, systemClock, webRandomBytes } from "../shared";
import type { EdgeDeps, EdgeOptions } from "./context";
import {
  apiCors,
  bodyLimit,
  caller,
  DEFAULT_MAX_BODY_BYTES,
  notFound,
  onError,
  pretty,
  readBodyText,
  whom,
} from "./middleware";
import {
  clusterRoutes,
  executionRoutes,
  jobRoutes,
  keyRoutes,
  restoreRoutes,
  runnerRoutes,
  scheduleRoutes,
  tokenRoutes,
  webhookRoutes,
} from "./routes";
import { uiRoutes } from "./ui";

/** Options of createApp (re-exported so hosts import from one place). */
export type { EdgeOptions } from "./context";

/** Default X-Whom when the host does not name this edge. */
const DEFAULT_NODE_NAME = "edge";

/**
 * Builds the Dkron-compatible HTTP app (/health, /v1, the /ui dashboard and the signed /hooks) over a control-api client. Stateless and
 * runtime-neutral: the same app runs in a Worker and in-process on a control node.
 */
export function createApp(opts: EdgeOptions): Hono {
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const read = opts.bodyText ?? readBodyText;
  const deps: EdgeDeps = {
    control: opts.control,
    nodeName: opts.nodeName ?? (() => DEFAULT_NODE_NAME),
    version: opts.version ?? "unknown",
    logger: opts.logger ?? silentLogger,
    bodyText: (c) => read(c, maxBodyBytes),
    maxBodyBytes,
    clock: opts.clock ?? systemClock,
    randomBytes: opts.randomBytes ?? webRandomBytes,
  };
  const app = new Hono();

  // Order matters: X-Whom wraps everything (preflights and errors too), CORS answers preflights before
  // any route, pretty re-renders whatever JSON the inner layers produced, including error bodies.
  app.use("*", whom(deps.nodeName));
  app.use("*", apiCors());
  app.use("*", pretty());
  app.use("*", bodyLimit(maxBodyBytes));
  app.use("*", caller(opts.clientAddress ?? (() => "")));

  app.get("/health", (c) => c.json({ status: "healthy" }));
  app.route("/", clusterRoutes(deps));
  app.route("/", jobRoutes(deps));
  app.route("/", executionRoutes(deps));
  app.route("/", restoreRoutes(deps));
  app.route("/", scheduleRoutes(deps));
  app.route("/", tokenRoutes(deps));
  app.route("/", runnerRoutes(deps));
  app.route("/", keyRoutes(deps));
  app.route("/", webhookRoutes(deps));
  app.route("/ui", uiRoutes(deps));
  app.get("/", (c) => c.redirect("/ui", 302));

  app.onError(onError(deps.logger));
  app.notFound(notFound);
  return app;
}
