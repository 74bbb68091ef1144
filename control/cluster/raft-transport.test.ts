import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { systemClock } from "../../shared/clock";
import type { Logger } from "../../shared/logger";
import { silentLogger } from "../../shared/logger";
import type { Message } from "../raft/messages";
import { decodeRaftFrame } from "./raft-frame";
import { RaftStreamServer } from "./raft-stream-server";
import { StreamRaftTransport } from "./raft-transport";

const SECRET = "s3cret";
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A real HTTP server on loopback whose upgrades go to a RaftStreamServer. */
async function receiver(secret = SECRET) {
  const got: Message[] = [];
  const waiters: (() => void)[] = [];
  const streams = new RaftStreamServer({
    secret,
    logger: silentLogger,
    receive: (msgs) => {
      got.push(...msgs);
      for (const w of waiters.splice(0)) w();
      return true;
    },
  });
  const server = createServer((_req, res) => res.writeHead(404).end());
  server.on("upgrade", (req, socket, head) => {
    if (!streams.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(
    () =>
      new Promise<void>((r) => {
        streams.close();
        server.close(() => r());
      }),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  /** Resolves once `n` messages have arrived. */
  const until = async (n: number) => {
    while (got.length < n) await new Promise<void>((r) => waiters.push(r));
  };
  return { got, url, until };
}

function transport(opts: Partial<ConstructorParameters<typeof StreamRaftTransport>[0]> = {}) {
  const t = new StreamRaftTransport({
    self: "n1",
    secret: SECRET,
    logger: silentLogger,
    clock: systemClock,
    webSocket: (url, o) => new WebSocket(url, o),
    ...opts,
  });
  closers.push(() => t.close());
  return t;
}

const hb = (i: number, to = "n2"): Message => ({
  type: "heartbeat",
  from: "n1",
  to,
  term: 1,
  commit: i,
  readSeq: 0,
});

/** A logger that records warnings, so a test can wait for one. */
function recordingLogger() {
  const warnings: string[] = [];
  const waiters: (() => void)[] = [];
  const logger: Logger = {
    ...silentLogger,
    warn: (msg: string) => {
      warnings.push(msg);
      for (const w of waiters.splice(0)) w();
    },
  };
  const until = async (re: RegExp) => {
    while (!warnings.some((w) => re.test(w))) await new Promise<void>((r) => waiters.push(r));
  };
  return { logger, warnings, until };
}

describe("Raft stream transport (WebSocket over loopback)", () => {
  it("delivers messages to each peer in the order they were sent, across the dial", async () => {
    const r = await receiver();
    const t = transport();
    t.setPeer("n2", r.url);
    // The first sends happen while the stream is still connecting: they are queued, not lost.
    for (let i = 1; i <= 50; i++) t.send([hb(i)]);
    await r.until(50);
    for (let i = 51; i <= 300; i++) t.send([hb(i)]);
    await r.until(300);
    expect(r.got.map((m) => (m.type === "heartbeat" ? m.commit : -1))).toEqual(
      Array.from({ length: 300 }, (_, i) => i + 1),
    );
  });

  it("refuses a peer with the wrong cluster secret: nothing reaches Raft and the sender says why", async () => {
    const r = await receiver("another-secret");
    const log = recordingLogger();
    const t = transport({ logger: log.logger });
    t.setPeer("n2", r.url);
    t.send([hb(1)]);
    await log.until(/unreachable/);
    expect(r.got).toEqual([]);
  });

  it("drops messages for an unknown peer instead of queueing them", async () => {
    const r = await receiver();
    const t = transport();
    t.setPeer("n2", r.url);
    t.send([hb(1, "n9"), hb(2)]);
    await r.until(1);
    expect(r.got.map((m) => m.to)).toEqual(["n2"]);
  });

  it("bounds what it holds for a peer that stops reading, cuts the stream, and redials", async () => {
    // A peer that accepts the stream and then never reads again (like a SIGSTOPped node).
    const sockets: Duplex[] = [];
    let upgrades = 0;
    const server: Server = createServer();
    const frozen = new RaftStreamServer({ secret: SECRET, logger: silentLogger, receive: () => true });
    server.on("upgrade", (req, socket, head) => {
      upgrades++;
      sockets.push(socket);
      frozen.handleUpgrade(req, socket, head);
      // Stop reading once the handshake is done: the sender's socket buffer fills up.
      setImmediate(() => socket.pause());
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    closers.push(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          frozen.close();
          server.close(() => r());
        }),
    );
    const log = recordingLogger();
    const t = transport({ logger: log.logger, maxBufferedBytes: 256 * 1024, pingMs: 50 });
    t.setPeer("n2", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const big: Message = {
      type: "app",
      from: "n1",
      to: "n2",
      term: 1,
      index: 0,
      logTerm: 0,
      commit: 0,
      entries: [{ index: 1, term: 1, type: "normal", data: "x".repeat(64 * 1024) }],
    };
    // Far more than the cap: the transport must start dropping rather than buffer it all.
    for (let i = 0; i < 400; i++) {
      t.send([big]);
      await new Promise((r) => setImmediate(r));
    }
    await log.until(/not reading/);
    // No pong from the frozen peer: the stream is cut, and the next heartbeat dials again.
    while (upgrades < 2) {
      t.send([hb(1)]);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(log.warnings.some((w) => /not reading/.test(w))).toBe(true);
  });
});

describe("Raft frames", () => {
  it("keeps well-formed messages and counts malformed ones", () => {
    const { msgs, rejected } = decodeRaftFrame(
      JSON.stringify([hb(1), { type: "heartbeat", from: "" }, hb(2)]),
    );
    expect(msgs.map((m) => (m.type === "heartbeat" ? m.commit : 0))).toEqual([1, 2]);
    expect(rejected).toBe(1);
    expect(decodeRaftFrame("not json")).toEqual({ msgs: [], rejected: 1 });
    expect(decodeRaftFrame('{"a":1}')).toEqual({ msgs: [], rejected: 1 });
  });
});
