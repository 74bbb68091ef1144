import type { IncomingMessage } from "node:http";
import type { Context } from "hono";
import { readLimitedBytes, tooLarge } from "../../shared";

/**
 * Reads a request body straight from Node's IncomingMessage (which @hono/node-server hands over as
 * `c.env.incoming`), skipping the web-stream Request that `c.req.text()` builds: on a write-heavy
 * leader that was about a tenth of the CPU per write. Stops with a 413 once the body passes
 * `maxBytes` (the edge checked Content-Length already; this counts a chunked body). Falls back to
 * the web Request when the stream is not there or was already read.
 */
export async function incomingBodyText(c: Context, maxBytes: number): Promise<string> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming || incoming.readableDidRead || incoming.readableEnded)
    return new TextDecoder().decode(await readLimitedBytes(c.req.raw, maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      // Keep nothing more; the rest drains unread while the 413 goes out.
      incoming.off("data", onData);
      incoming.resume();
      chunks.length = 0;
      reject(tooLarge(maxBytes));
    };
    incoming.on("data", onData);
    incoming.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    incoming.once("error", reject);
  });
}

/** The API client's address: the socket peer of Node's IncomingMessage, IPv4-mapped IPv6 unwrapped. */
export function incomingClientAddress(c: Context): string {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return (incoming?.socket?.remoteAddress ?? "").replace(/^::ffff:/, "");
}
