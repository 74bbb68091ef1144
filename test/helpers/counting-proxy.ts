import { createServer, type IncomingHttpHeaders, request } from "node:http";
import type { AddressInfo } from "node:net";

/** One request the proxy passed on, as it arrived. */
export interface ProxiedRequest {
  method: string;
  /** Path and query, e.g. /_control/rpc/jobs.get */
  path: string;
  headers: IncomingHttpHeaders;
}

/** A plain HTTP proxy on loopback that records every request it forwards. */
export interface CountingProxy {
  /** Its base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Every request received so far, oldest first. */
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

/**
 * Starts a proxy in front of `target` (an http:// base URL): each request is forwarded as it came,
 * body and response streamed through, and recorded, so a test can count what reached the target.
 */
export async function countingProxy(target: string): Promise<CountingProxy> {
  const to = new URL(target);
  const requests: ProxiedRequest[] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers });
    const out = request(
      {
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: to.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on("error", (e) => {
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(`proxy: ${e.message}`);
    });
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
