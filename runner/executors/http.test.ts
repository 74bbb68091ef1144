import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTRACT_IDENTITY, type ContractHarness, executorContract, observe } from "./contract";
import { createHttpExecutor } from "./http";

const http = createHttpExecutor();
const HUGE = "0123456789abcdef".repeat(20_000); // 320 000 bytes
const releases = new Map<string, () => void>();
let releaseSeq = 0;
let base = "";
let server: Server;

async function readBody(req: IncomingMessage): Promise<string> {
  let body = "";
  for await (const chunk of req) body += chunk;
  return body;
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const q = (k: string) => url.searchParams.get(k) ?? "";
  const body = await readBody(req);
  switch (url.pathname) {
    case "/echo":
      res.end(body);
      return;
    case "/text":
      res.end(q("text"));
      return;
    case "/fail":
      res.writeHead(500).end("oops");
      return;
    case "/status":
      res.writeHead(Number(q("code"))).end(q("body"));
      return;
    case "/slow":
      return; // never answers; closed at teardown
    case "/started":
      res.writeHead(200).write("started\n");
      return; // never finishes
    case "/identity":
      res.end(
        [
          req.headers["x-dkron-job"],
          req.headers["x-dkron-execution-id"],
          req.headers["x-dkron-scheduled-at"],
        ].join(" "),
      );
      return;
    case "/two-parts":
      res.writeHead(200).write("first\n");
      await new Promise<void>((resolve) => releases.set(q("id"), resolve));
      res.end("second\n");
      return;
    case "/huge":
      for (let i = 0; i < HUGE.length; i += 10_000) res.write(HUGE.slice(i, i + 10_000));
      res.end();
      return;
    case "/request":
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ method: req.method, headers: req.headers, body }));
      return;
    case "/redirect":
      res.writeHead(302, { location: "/text?text=redirected" }).end();
      return;
    default:
      res.writeHead(404).end("no such route");
  }
}

async function listen(s: Server): Promise<number> {
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return (s.address() as AddressInfo).port;
}

function close(s: Server): Promise<void> {
  s.closeAllConnections();
  return new Promise((resolve) => s.close(() => resolve()));
}

beforeAll(async () => {
  server = createHttpServer((req, res) => void handle(req, res));
  base = `http://127.0.0.1:${await listen(server)}`;
});
afterAll(async () => {
  await http.close?.();
  await close(server);
});

const harness: ContractHarness = {
  executor: http,
  succeedWith: (text) => ({ url: `${base}/echo`, method: "POST", body: text }),
  fail: () => ({ url: `${base}/fail`, method: "GET" }),
  overrunTimeout: () => ({ url: `${base}/slow`, method: "GET", timeout: "1" }),
  echoIdentity: () => ({ url: `${base}/identity`, method: "GET" }),
  twoParts: () => {
    const id = String(++releaseSeq);
    return {
      config: { url: `${base}/two-parts?id=${id}`, method: "GET", timeout: "10" },
      release: () => releases.get(id)?.(),
    };
  },
  runUntilCancelled: () => ({ url: `${base}/started`, method: "GET" }),
  echoPayload: () => ({ url: `${base}/echo`, method: "POST" }),
  hugeOutput: () => ({ config: { url: `${base}/huge`, method: "GET" }, expected: HUGE }),
  requiredKey: "url",
};

describe("http executor: contract", () => {
  executorContract(() => harness);
});

describe("http executor", () => {
  const status = (code: number, extra: Record<string, string> = {}) => ({
    url: `${base}/status?code=${code}&body=status-${code}`,
    method: "GET",
    ...extra,
  });

  it("compares expectCode exactly against the status", async () => {
    expect((await observe(http, status(200, { expectCode: "200" }))).result.success).toBe(true);
    expect((await observe(http, status(500, { expectCode: "200, 500" }))).result.success).toBe(true);
    const { result } = await observe(http, status(200, { expectCode: "201,204" }));
    expect(result).toMatchObject({ success: false, statusCode: 200, output: "status-200" });
    expect(result.error).toBe("received response code 200 does not match the expected code 201,204");
  });

  it("without expectCode accepts only 2xx", async () => {
    expect((await observe(http, status(204))).result.success).toBe(true);
    expect((await observe(http, status(404))).result).toMatchObject({ success: false, statusCode: 404 });
    expect((await observe(http, status(503))).result.success).toBe(false);
  });

  it("matches expectBody as a regular expression against the body", async () => {
    const ok = await observe(http, status(200, { expectBody: "^status-\\d+$" }));
    expect(ok.result.success).toBe(true);
    const bad = await observe(http, status(200, { expectBody: "healthy" }));
    expect(bad.result.success).toBe(false);
    expect(bad.result.error).toMatch(/did not match the expected body/);
  });

  it("sends method, headers (split on the first colon) and body; the identity headers cannot be spoofed", async () => {
    const { result } = await observe(http, {
      url: `${base}/request`,
      method: "put",
      headers: JSON.stringify([
        "Content-Type: application/json",
        "Authorization: Basic a:b",
        "X-Dkron-Job: spoof",
      ]),
      body: '{"k":1}',
    });
    const seen = JSON.parse(result.output) as {
      method: string;
      headers: Record<string, string>;
      body: string;
    };
    expect(seen.method).toBe("PUT");
    expect(seen.body).toBe('{"k":1}');
    expect(seen.headers["content-type"]).toBe("application/json");
    expect(seen.headers.authorization).toBe("Basic a:b");
    expect(seen.headers["x-dkron-job"]).toBe(CONTRACT_IDENTITY.jobName);
    expect(seen.headers["x-dkron-execution-id"]).toBe(CONTRACT_IDENTITY.executionId);
    expect(seen.headers["x-dkron-scheduled-at"]).toBe(CONTRACT_IDENTITY.scheduledAt);
  });

  it("sends a webhook payload as the body in place of the configured one", async () => {
    const { result } = await observe(
      http,
      {
        url: `${base}/request`,
        method: "POST",
        body: "configured",
        headers: '["Content-Type: application/json"]',
      },
      { payload: '{"from":"hook"}' },
    );
    const seen = JSON.parse(result.output) as { body: string; headers: Record<string, string> };
    expect(seen.body).toBe('{"from":"hook"}');
    expect(seen.headers["content-type"]).toBe("application/json");
  });

  it("a GET job does not send the payload, says so in the output, and expectBody still sees only the response", async () => {
    const { result } = await observe(
      http,
      { url: `${base}/request`, method: "GET", expectBody: '^\\{"method":"GET"' },
      { payload: "0123456789" },
    );
    expect(result.success, result.error).toBe(true);
    const note = "http: the webhook payload (10 bytes) was not sent: a GET request has no body\n";
    expect(result.output.startsWith(note)).toBe(true);
    expect((JSON.parse(result.output.slice(note.length)) as { body: string }).body).toBe("");
  });

  it("follows redirects as Go's client does", async () => {
    const { result } = await observe(http, { url: `${base}/redirect`, method: "GET" });
    expect(result).toMatchObject({ success: true, output: "redirected" });
  });

  it("reuses one keep-alive connection across runs to a server, and closes it on close()", async () => {
    const executor = createHttpExecutor();
    const own = createHttpServer((_req, res) => res.end("ok"));
    const sockets: Socket[] = [];
    own.on("connection", (s) => sockets.push(s));
    const url = `http://127.0.0.1:${await listen(own)}/`;
    try {
      for (let i = 0; i < 3; i++) {
        expect((await observe(executor, { url, method: "GET" })).result.success).toBe(true);
        // undici hands the socket back to its pool just after the body ends.
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(sockets).toHaveLength(1);
      const closed = new Promise((resolve) => sockets[0]!.once("close", resolve));
      await executor.close?.();
      await closed;
      // A run after close opens a new connection rather than failing.
      expect((await observe(executor, { url, method: "GET" })).result.success).toBe(true);
      expect(sockets).toHaveLength(2);
    } finally {
      await executor.close?.();
      await close(own);
    }
  });

  it("reports a transport error as a failed job", async () => {
    const closed = createHttpServer();
    const port = await listen(closed);
    await close(closed);
    const { result } = await observe(http, { url: `http://127.0.0.1:${port}/`, method: "GET" });
    expect(result.success).toBe(false);
    expect(result.error).toMatch(/^request failed: .*ECONNREFUSED/);
  });

  it("reports invalid config (e.g. a malformed headers list) as a failed job", async () => {
    const { result } = await observe(http, {
      url: `${base}/text`,
      method: "GET",
      headers: "Content-Type: x",
    });
    expect(result.success).toBe(false);
    expect(result.error).toMatch(/^executor_config.headers must be a JSON array/);
  });
});

const hasOpenssl = spawnSync("openssl", ["version"]).status === 0;

describe.skipIf(!hasOpenssl)("http executor over TLS with a self-signed certificate", () => {
  let dir = "";
  let tlsBase = "";
  let tlsServer: Server;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "http-executor-tls-"));
    const made = spawnSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
        ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "2"],
        ...["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
      ],
      { stdio: "pipe" },
    );
    if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
    tlsServer = createHttpsServer(
      { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) },
      (_req, res) => res.end("secure"),
    );
    tlsBase = `https://127.0.0.1:${await listen(tlsServer)}`;
  });
  afterAll(async () => {
    await close(tlsServer);
    rmSync(dir, { recursive: true, force: true });
  });

  it("rejects the certificate by default", async () => {
    const { result } = await observe(http, { url: tlsBase, method: "GET" });
    expect(result.success).toBe(false);
    expect(result.error).toMatch(/^request failed: .*certificate/i);
  });

  it("accepts it with tlsNoVerifyPeer", async () => {
    const { result } = await observe(http, { url: tlsBase, method: "GET", tlsNoVerifyPeer: "true" });
    expect(result).toMatchObject({ success: true, output: "secure" });
  });

  it("never lends a connection made without verification to a job that verifies", async () => {
    const executor = createHttpExecutor();
    try {
      const loose = await observe(executor, { url: tlsBase, method: "GET", tlsNoVerifyPeer: "true" });
      expect(loose.result.success).toBe(true);
      const { result } = await observe(executor, { url: tlsBase, method: "GET" });
      expect(result.success).toBe(false);
      expect(result.error).toMatch(/^request failed: .*certificate/i);
    } finally {
      await executor.close?.();
    }
  });

  it("accepts it when it is in tlsRootCAsFile", async () => {
    const { result } = await observe(http, {
      url: tlsBase,
      method: "GET",
      tlsRootCAsFile: join(dir, "cert.pem"),
    });
    expect(result).toMatchObject({ success: true, output: "secure" });
  });

  it("fails clearly when tlsRootCAsFile cannot be read", async () => {
    const { result } = await observe(http, {
      url: tlsBase,
      method: "GET",
      tlsRootCAsFile: join(dir, "missing.pem"),
    });
    expect(result.success).toBe(false);
    expect(result.error).toMatch(/^cannot read tlsRootCAsFile/);
  });
});
