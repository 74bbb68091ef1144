import type { Context, Hono } from "hono";
import { createControlApp } from "../../control/http/control-app";
import { createLocalControlClient } from "../../control/http/local-control-client";
import { createApp } from "../../edge/app";
import { createControlClient } from "../../shared/control-client";
import { silentLogger } from "../../shared/logger";
import type { ControlHarness } from "./control-harness";

/** The /v1 app over a harness's real control service, reached in-process or over the wire. */
export interface ApiHarness {
  /** The edge app as a control node mounts it: the service called in-process. */
  app: Hono;
  /** The edge app as a Worker runs it: the control-api contract as JSON over `fetch`. */
  worker: Hono;
  /** GET through `app` (or `worker`) while the harness settles, so reads that wait on Raft finish. */
  get(path: string, via?: "app" | "worker"): Promise<Response>;
}

/**
 * Wraps a ControlHarness (one-voter Raft over real SQLite, virtual clock) in the real edge app, as
 * control/main.ts wires it, and in the Worker's shape (control app behind a fetch).
 */
export function apiHarness(h: ControlHarness): ApiHarness {
  // The harness's own service: one token table and one set of counters for both faces.
  const service = h.service;
  const noNetwork = async (): Promise<Response> => {
    throw new Error("no network in this harness");
  };
  // A test names its client with X-Test-Client (a real host takes the socket's peer address).
  const clientAddress = (c: Context) => c.req.header("x-test-client") ?? "127.0.0.1";
  const app = createApp({ control: createLocalControlClient({ service, fetch: noNetwork }), clientAddress });
  const controlApp = createControlApp({ service, logger: silentLogger, secret: "" });
  const worker = createApp({
    control: createControlClient({
      baseUrl: "http://control.test",
      fetch: (input, init) => Promise.resolve(controlApp.request(String(input), init)),
    }),
    clientAddress,
  });
  return {
    app,
    worker,
    async get(path, via = "app") {
      const res = (via === "app" ? app : worker).request(path);
      await h.settle();
      return res;
    },
  };
}
