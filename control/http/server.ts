import { readFileSync } from "node:fs";
import type { IncomingMessage, Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { createAdaptorServer } from "@hono/node-server";
import { splitHostPort } from "../../shared";

/** Takes over an HTTP upgrade it recognises (Raft streams, runner sockets); false leaves it to the next. */
export interface UpgradeHandler {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

/** What the control node's HTTP server serves. */
export interface ControlServerOptions {
  /** The one Hono app: edge /v1 API, control-api, cluster routes. */
  fetch: (req: Request) => Response | Promise<Response>;
  /** PEM files; both given means HTTPS (and WSS for upgrades). */
  tls?: { certFile: string; keyFile: string };
  /** Upgrade handlers, asked in order; an upgrade nobody takes is destroyed. */
  upgrades: readonly UpgradeHandler[];
}

/**
 * The control node's HTTP(S) server: one port for the API, the control-api contract, Raft streams
 * and runner sockets. Owns listening, TLS and upgrade routing; knows nothing of what it serves.
 */
export class ControlServer {
  private readonly server: Server;

  constructor(private readonly opts: ControlServerOptions) {
    this.server = (
      opts.tls
        ? createAdaptorServer({
            fetch: opts.fetch,
            createServer: createHttpsServer,
            serverOptions: { cert: readFileSync(opts.tls.certFile), key: readFileSync(opts.tls.keyFile) },
          })
        : createAdaptorServer({ fetch: opts.fetch })
    ) as Server;
    // Above the 60 s idle timeout of common load balancers, so they close first.
    this.server.keepAliveTimeout = 65_000;
    this.server.on("upgrade", (req, socket, head) => {
      for (const u of opts.upgrades) if (u.handleUpgrade(req, socket, head)) return;
      socket.destroy();
    });
  }

  /** http, or https when TLS is configured. */
  get scheme(): "http" | "https" {
    return this.opts.tls ? "https" : "http";
  }

  /** Listens on `host:port` (port 0 picks one); resolves with the bound `host:port`. */
  async listen(addr: string): Promise<string> {
    const [host, port] = splitHostPort(addr);
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    const bound = this.server.address() as AddressInfo;
    return `${host}:${bound.port}`;
  }

  /** Stops listening and closes every connection (upgraded sockets must be closed by their owners first). */
  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections?.();
    });
  }
}
