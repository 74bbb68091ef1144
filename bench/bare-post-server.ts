/**
 * The floor of a write through HTTP, for bench/cluster-throughput.ts: a bare Hono app over node:http
 * (@hono/node-server, as the agent serves its API) whose POST /v1/jobs parses the JSON body and
 * answers 201 with it, with no validation, auth, Raft or SQLite. Run as its own process, like a
 * control node, so it does not share the load generator's event loop. Prints its port, then serves
 * until killed.
 *
 * Run: node --import tsx bench/bare-post-server.ts
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { Hono } from "hono";

if (process.argv.includes("--help")) {
  process.stdout.write(
    "Usage: node --import tsx bench/bare-post-server.ts (prints its port, serves until killed)\n",
  );
  process.exit(0);
}

const app = new Hono().post("/v1/jobs", async (c) => {
  const body = (await c.req.json()) as { name?: string };
  c.header("Location", `/v1/jobs/${encodeURIComponent(String(body.name))}`);
  return c.json(body, 201);
});
const server = createServer(getRequestListener(app.fetch));
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
