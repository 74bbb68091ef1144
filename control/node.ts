import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createAdaptorServer } from "@hono/node-server";
import { Hono } from "hono";
import { createApp as createEdgeApp } from "../edge/app";
import { RunnerAgent } from "../runner/agent";
import { createExecutors } from "../runner/executors";
import type { Clock } from "../shared/clock";
import { createControlClient } from "../shared/control-client";
import type { Logger } from "../shared/logger";
import { type AgentConfig, VERSION } from "./config";
import { SingleNodeLog } from "./consensus/single-node";
import { Dispatcher } from "./dispatch/dispatcher";
import { createControlApp } from "./http/control-app";
import { ControlService } from "./http/control-service";
import { RUNNER_WS_PATH, RunnerHub } from "./hub/runner-hub";
import { Scheduler } from "./scheduler/scheduler";
import { openStateDb, type StateDb } from "./store/db";

/** Outside-world dependencies of a node (real ones come from the entry file, fakes from tests). */
export interface NodeDeps {
  clock: Clock;
  logger: Logger;
  random: () => number;
  /** Random secret generator (runner token when none is configured). */
  secret: () => string;
}

/** Dkron's automatic node tags plus the user's. */
export function nodeTags(c: AgentConfig, advertise: string): Record<string, string> {
  const port = advertise.slice(advertise.lastIndexOf(":") + 1);
  return {
    role: "dkron",
    dc: c.datacenter,
    region: c.region,
    version: VERSION,
    server: "true",
    ...(c.bootstrap_expect === 1 ? { bootstrap: "1" } : {}),
    expect: String(c.bootstrap_expect),
    rpc_addr: advertise,
    port,
    ...c.tags,
  };
}

/**
 * A control node: state database, consensus, scheduler, dispatcher, runner hub, the HTTP server
 * (edge /v1 app + control-api + runner WebSocket) and, by default, a local runner that connects
 * back over the same protocol a remote runner uses.
 */
export class ControlNode {
  private state: "new" | "running" | "stopping" | "stopped" = "new";
  private db!: StateDb;
  private consensus!: SingleNodeLog;
  private hub!: RunnerHub;
  private dispatcher!: Dispatcher;
  private scheduler!: Scheduler;
  private server!: Server;
  private runner: RunnerAgent | undefined;
  private stopping: Promise<void> | undefined;
  /** The address the HTTP server listens on (resolved port when 0 was asked). */
  address = "";

  private constructor(
    readonly config: AgentConfig,
    private readonly deps: NodeDeps,
  ) {}

  /** Builds a node from a resolved config. */
  static create(config: AgentConfig, deps: NodeDeps): ControlNode {
    return new ControlNode(config, deps);
  }

  /** Opens the state, replays the log, starts the HTTP server, scheduler and local runner. */
  async start(): Promise<void> {
    const { config: c, deps } = this;
    const log = deps.logger.child({ node: c.node_name });
    this.db = openStateDb(join(c.data_dir, "state.db"));
    this.consensus = new SingleNodeLog(this.db, { nodeName: c.node_name, logger: log });
    const runnerToken = c.runner_token || deps.secret();
    this.hub = new RunnerHub({
      clock: deps.clock,
      logger: log,
      token: runnerToken,
      heartbeatMs: c.heartbeat,
      nodeName: c.node_name,
    });
    this.dispatcher = new Dispatcher(
      {
        consensus: this.consensus,
        state: this.db,
        hub: this.hub,
        clock: deps.clock,
        logger: log,
        random: deps.random,
      },
      { retain: c.execution_retention, leaseMs: c.lease_timeout },
    );
    this.hub.setHandler(this.dispatcher);
    this.scheduler = new Scheduler({
      state: this.db,
      clock: deps.clock,
      logger: log,
      dispatcher: this.dispatcher,
      consensus: this.consensus,
    });
    let leading = false;
    this.consensus.onLeadership((leader) => {
      leading = leader;
      if (leader) {
        this.dispatcher.startLeading();
        // Runners reconnect to a new leader within moments; firing before any is back would
        // record avoidable "no target" failures. Slots due meanwhile follow the catch-up policy.
        const deadline = deps.clock.now() + c.runner_settle;
        const startWhenSettled = () => {
          if (!leading || this.scheduler.isRunning()) return;
          if (this.hub.candidates().length > 0 || deps.clock.now() >= deadline) this.scheduler.start();
          else deps.clock.setTimeout(startWhenSettled, 20);
        };
        startWhenSettled();
      } else {
        this.scheduler.stop();
        this.dispatcher.stopLeading();
      }
    });

    // The HTTP server starts first so the advertised address (and a resolved port 0) is known.
    const app = new Hono();
    let tags: Record<string, string> = {};
    let advertise = "";
    const service = new ControlService({
      state: this.db,
      consensus: this.consensus,
      dispatcher: this.dispatcher,
      hub: this.hub,
      clock: deps.clock,
      node: {
        name: c.node_name,
        version: VERSION,
        get advertise() {
          return advertise;
        },
        get tags() {
          return tags;
        },
      },
      leave: () => void this.stop(),
    });
    const controlApp = createControlApp({ service, logger: log, secret: c.control_token });
    // The edge reaches control in-process: the same contract, no socket.
    const edge = createEdgeApp({
      control: createControlClient({
        fetch: async (input, init) => controlApp.fetch(new Request(input, init)),
        baseUrl: "http://control.local",
      }),
      nodeName: () => c.node_name,
      version: VERSION,
      logger: log,
    });
    app.route("/", controlApp);
    app.route("/", edge);
    this.server = createAdaptorServer({ fetch: app.fetch }) as Server;
    this.server.on("upgrade", (req, socket, head) => {
      if (!this.hub.handleUpgrade(req, socket, head)) socket.destroy();
    });
    const [host, port] = splitHostPort(c.http_addr);
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => resolve());
    });
    const bound = this.server.address() as AddressInfo;
    this.address = `${host}:${bound.port}`;
    advertise = c.advertise_addr ?? this.address.replace(/^0\.0\.0\.0:/, "127.0.0.1:");
    tags = nodeTags(c, advertise);

    this.hub.start();
    await this.consensus.start();
    this.state = "running";
    log.info("control node started", { http: `http://${this.address}`, state: join(c.data_dir, "state.db") });

    if (c.local_runner) {
      const local = this.address.replace(/^0\.0\.0\.0:/, "127.0.0.1:");
      this.runner = new RunnerAgent({
        url: `ws://${local}${RUNNER_WS_PATH}`,
        token: runnerToken,
        name: c.node_name,
        tags,
        executors: createExecutors({ clock: deps.clock }),
        clock: deps.clock,
        logger: log.child({ runner: c.node_name }),
      });
      await this.runner.start();
    }
  }

  /**
   * Graceful stop: scheduling stops at once, running executions get `shutdown_grace` to finish
   * and report, then the server, consensus and database close.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      if (this.state !== "running") return;
      this.state = "stopping";
      const log = this.deps.logger;
      log.info("stopping: no new runs; waiting for running executions", {
        graceMs: this.config.shutdown_grace,
      });
      this.scheduler.stop();
      await this.runner?.stop(this.config.shutdown_grace);
      // Let the last results commit before the log closes.
      await new Promise((r) => setTimeout(r, 50));
      this.dispatcher.stopLeading();
      this.hub.stop();
      await new Promise<void>((r) => {
        this.server.close(() => r());
        this.server.closeAllConnections?.();
      });
      await this.consensus.stop();
      this.db.close();
      this.state = "stopped";
      log.info("stopped");
    })();
    return this.stopping;
  }
}

function splitHostPort(addr: string): [string, number] {
  const i = addr.lastIndexOf(":");
  return [addr.slice(0, i).replace(/^\[|\]$/g, ""), Number(addr.slice(i + 1))];
}
