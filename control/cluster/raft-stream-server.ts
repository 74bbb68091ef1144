import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import type { Logger } from "../../shared";
import { bearerToken, safeEqual } from "../../shared";
import type { Message } from "../raft";
import { decodeRaftFrame, RAFT_STREAM_PATH } from "./raft-frame";

/** Options of the receiving end of Raft streams. */
export interface RaftStreamServerOptions {
  secret: string;
  logger: Logger;
  /** Hands decoded messages to consensus; false while Raft is not running here (messages dropped). */
  receive: (msgs: Message[]) => boolean;
}

/** Accepts peers' Raft streams on the HTTP port, checks the cluster secret, and feeds their frames to Raft. */
export class RaftStreamServer {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: 64 * 1024 * 1024,
    perMessageDeflate: false,
  });

  constructor(private readonly opts: RaftStreamServerOptions) {}

  /** Takes over an HTTP upgrade on RAFT_STREAM_PATH; returns false for other paths. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (new URL(req.url ?? "/", "http://x").pathname !== RAFT_STREAM_PATH) return false;
    if (!safeEqual(bearerToken(req.headers.authorization), this.opts.secret)) {
      socket.write(
        "HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nraft: missing or wrong cluster secret\n",
      );
      socket.destroy();
      return true;
    }
    const from = String(req.headers["x-raft-from"] ?? "?");
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      let warned = false;
      ws.on("message", (data) => {
        const { msgs, rejected } = decodeRaftFrame(String(data));
        if (rejected && !warned) {
          warned = true;
          this.opts.logger.warn("raft peer sent malformed messages; dropped", { peer: from, rejected });
        }
        if (msgs.length) this.opts.receive(msgs);
      });
      ws.on("error", () => ws.terminate());
    });
    return true;
  }

  /** Closes every accepted stream. */
  close(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }
}
