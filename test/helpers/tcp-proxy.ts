import { connect, createServer, type Server, type Socket } from "node:net";

/** A TCP proxy on loopback in front of one port, that a test can cut (and restore) at will. */
export interface TcpProxy {
  /** Its port on 127.0.0.1. */
  port: number;
  /** Where it forwards to now. */
  target: number;
  /** Closes every connection through it and refuses new ones (a cut network, as the runner sees it). */
  cut(): Promise<void>;
  /** Listens again on the same port, forwarding to `target` (default the last one). */
  restore(target?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a TCP proxy from a free loopback port to 127.0.0.1:`target`. */
export async function tcpProxy(target: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const proxy: TcpProxy = {
    port: 0,
    target,
    async cut() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((r) => s.close(() => r()));
    },
    async restore(to = proxy.target) {
      proxy.target = to;
      const s = createServer((inbound) => {
        const out = connect(proxy.target, "127.0.0.1");
        sockets.add(inbound);
        sockets.add(out);
        inbound.pipe(out).pipe(inbound);
        const drop = () => {
          inbound.destroy();
          out.destroy();
          sockets.delete(inbound);
          sockets.delete(out);
        };
        inbound.on("error", drop).on("close", drop);
        out.on("error", drop).on("close", drop);
      });
      await new Promise<void>((r) => s.listen(port, "127.0.0.1", () => r()));
      server = s;
      port = (s.address() as { port: number }).port;
      proxy.port = port;
    },
    close: () => proxy.cut(),
  };
  await proxy.restore(target);
  return proxy;
}
