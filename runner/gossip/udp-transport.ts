import { createSocket, type Socket } from "node:dgram";
import { splitHostPort } from "../../shared";
import { hostPort } from "./membership";

/** A datagram socket as the gossip shell uses it; the simulator and tests supply their own. */
export interface DatagramTransport {
  /** The bound host and port. */
  readonly local: { host: string; port: number };
  /** Sends one datagram to "host:port"; failures are counted, never thrown (UDP promises nothing). */
  send(to: string, data: Uint8Array): void;
  /** Sets the handler for incoming datagrams (from is "host:port"). */
  onMessage(fn: (data: Uint8Array, from: string) => void): void;
  /** Closes the socket. */
  close(): Promise<void>;
}

/** A node:dgram UDP socket bound to host:port (port 0 picks a free one). */
export async function bindUdp(host: string, port: number): Promise<DatagramTransport> {
  const socket: Socket = createSocket({ type: host.includes(":") ? "udp6" : "udp4", reuseAddr: false });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, host, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  let handler: (data: Uint8Array, from: string) => void = () => {};
  let closed = false;
  socket.on("message", (msg, rinfo) => handler(msg, hostPort(rinfo.address, rinfo.port)));
  // An ICMP unreachable from a crashed peer surfaces here on some platforms: it is not ours to crash on.
  socket.on("error", () => {});
  const addr = socket.address();
  return {
    local: { host: addr.address, port: addr.port },
    send(to, data) {
      if (closed) return;
      const [h, p] = splitHostPort(to);
      if (!p) return;
      socket.send(data, p, h, () => {});
    },
    onMessage(fn) {
      handler = fn;
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise((resolve) => socket.close(() => resolve()));
    },
  };
}

/**
 * The local address this host sends from toward `host` (a connected UDP socket: the kernel picks
 * the route's source address, nothing is sent): what a runner bound to 0.0.0.0 tells the pool to
 * reach it at. Falls back to 127.0.0.1 when there is no route.
 */
export async function localAddressToward(host: string, port: number): Promise<string> {
  const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
  try {
    return await new Promise<string>((resolve) => {
      socket.once("error", () => resolve("127.0.0.1"));
      socket.connect(port, host, () => resolve(socket.address().address));
    });
  } finally {
    socket.close();
  }
}
