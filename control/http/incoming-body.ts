import type { IncomingMessage } from "node:http";
import type { Context } from "hono";

/**
 * Reads a request body straight from Node's IncomingMessage (which @hono/node-server hands over as
 * `c.env.incoming`), skipping the web-stream Request that `c.req.text()` builds: on a write-heavy
 * leader that was about a tenth of the CPU per write. Falls back to `c.req.text()` when the stream is
 * not there or was already read.
 */
export async function incomingBodyText(c: Context): Promise<string> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming || incoming.readableDidRead || incoming.readableEnded) return c.req.text();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    incoming.once("error", reject);
  });
}
