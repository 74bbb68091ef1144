import type { Hono } from "hono";
import { AppError, createControlClient, isAppError } from "../shared";
import { createApp } from "./app";
import { parseWorkerEnv, type WorkerBindings } from "./env";

/** Worker isolates are reused across requests: build the app once per distinct configuration. */
let cached: { key: string; app: Hono } | undefined;

function appFor(rawEnv: unknown): Hono {
  const env = parseWorkerEnv(rawEnv);
  const key = JSON.stringify([
    env.CONTROL_URL,
    env.CONTROL_TOKEN ?? "",
    env.EDGE_NAME ?? "",
    env.MAX_BODY_BYTES,
  ]);
  if (cached?.key === key) return cached.app;
  const control = createControlClient({
    // Called through a wrapper: workerd throws "Illegal invocation" when the global fetch is called
    // with another object as `this`, which a bare `fetch: fetch` property call would do.
    fetch: (input, init) => fetch(input, init),
    baseUrl: env.CONTROL_URL,
    ...(env.CONTROL_TOKEN !== undefined && { secret: env.CONTROL_TOKEN }),
  });
  const name = env.EDGE_NAME ?? "edge";
  const app = createApp({
    control,
    nodeName: () => name,
    // Cloudflare sets it on every request from the internet; a caller cannot forge it.
    clientAddress: (c) => c.req.header("cf-connecting-ip") ?? "",
    ...(env.MAX_BODY_BYTES !== undefined && { maxBodyBytes: env.MAX_BODY_BYTES }),
  });
  cached = { key, app };
  return app;
}

/** The Workers entry: `{ fetch }`, configured from the CONTROL_URL var and the CONTROL_TOKEN secret. */
export default {
  fetch(request, env, ctx) {
    let app: Hono;
    try {
      // Typed bindings are what wrangler.toml promises; they are still checked, since a deployment
      // can lack a var or carry a bad one, and the operator should be told which.
      app = appFor(env);
    } catch (e) {
      // A misconfigured Worker is the operator's fault, not the caller's: 500, with the binding named.
      const message = e instanceof Error ? e.message : String(e);
      const err = new AppError("INTERNAL", message, isAppError(e) ? e.details : undefined);
      return Response.json(err.toJSON(), { status: 500 });
    }
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<WorkerBindings>;
