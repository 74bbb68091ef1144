import { readFile as nodeReadFile } from "node:fs/promises";
import { type Dispatcher, request } from "undici";
import { type Clock, type HttpConfig, parseHttpConfig, systemClock, type TimerHandle } from "../../shared";
import { type ExecuteRequest, type ExecuteResult, type Executor, notifyStarted } from "./executor";
import { ConnectionPools, type TlsOptions } from "./http-pools";
import { OutputSink } from "./output-tail";

/** The outside world the http executor touches, injectable for tests. */
export interface HttpExecutorDeps {
  clock?: Clock;
  /** Reads the PEM files named by the tls* keys; node's by default. */
  readFile?: (path: string) => Promise<Buffer>;
}

/** Identity headers sent with every request, so the target can dedupe retries of one slot. */
export const IDENTITY_HEADERS = {
  jobName: "X-Dkron-Job",
  executionId: "X-Dkron-Execution-Id",
  scheduledAt: "X-Dkron-Scheduled-At",
} as const;

// Go's client follows up to 10 redirects; jobs written for Dkron rely on it.
const MAX_REDIRECTS = 10;

/**
 * Dkron's `http` executor: one request; the response body is the output. Two deliberate differences from
 * Dkron: expectCode is compared exactly (Dkron's substring match lets "1200" accept 200), and with no
 * expectCode only a 2xx status is success (Dkron accepts any status, even 5xx, which hides outages).
 */
export function createHttpExecutor(deps: HttpExecutorDeps = {}): Executor {
  // Keep-alive pools shared by every run of this executor (per TLS setting, then per origin inside
  // undici): a burst of requests to one server reuses connections instead of opening and tearing
  // down one agent per run, which cost more CPU than the requests themselves.
  const pools = new ConnectionPools(MAX_REDIRECTS);
  return {
    name: "http",
    validate: (config) => {
      parseHttpConfig(config);
    },
    execute: (req) => executeHttp(req, deps, (tls) => pools.for(tls)),
    close: () => pools.close(),
  };
}

async function executeHttp(
  req: ExecuteRequest,
  deps: HttpExecutorDeps,
  poolFor: (tls: TlsOptions) => Dispatcher,
): Promise<ExecuteResult> {
  const sink = new OutputSink(req.onOutput);
  const fail = (error: string): ExecuteResult => ({ success: false, ...sink.result(), error });
  let cfg: HttpConfig;
  try {
    cfg = parseHttpConfig(req.config);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (req.signal.aborted) return fail("job was cancelled before it started");

  let connect: TlsOptions;
  try {
    connect = await tlsOptions(cfg, deps.readFile ?? nodeReadFile);
  } catch (e) {
    return fail((e as Error).message);
  }

  // A webhook's body is the request body (in place of executor_config.body); GET and HEAD carry
  // none, so there it is left out, and the output says so.
  let body = cfg.body;
  let note = "";
  if (req.payload !== undefined) {
    if (cfg.method === "GET" || cfg.method === "HEAD")
      note = `http: the webhook payload (${Buffer.byteLength(req.payload)} bytes) was not sent: a ${cfg.method} request has no body\n`;
    else body = req.payload;
  }
  if (note) sink.write(note);

  const clock = deps.clock ?? systemClock;
  const controller = new AbortController();
  let ending: "timeout" | "cancel" | undefined;
  const onAbort = () => {
    ending ??= "cancel";
    controller.abort();
  };
  req.signal.addEventListener("abort", onAbort);
  let timer: TimerHandle | undefined;
  if (cfg.timeoutSeconds > 0) {
    // Like Go's Client.Timeout, this bounds the whole exchange including reading the body.
    timer = clock.setTimeout(() => {
      ending ??= "timeout";
      controller.abort();
    }, cfg.timeoutSeconds * 1000);
  }
  // A pooled connection made with exactly this run's TLS settings (never another job's).
  const dispatcher = poolFor(connect);
  let statusCode: number | undefined;
  try {
    // Everything before the request itself (config, TLS files) is preparation, not the run.
    notifyStarted(req);
    const res = await request(cfg.url, {
      method: cfg.method as "GET",
      headers: buildHeaders(cfg, req),
      ...(body === undefined ? {} : { body }),
      signal: controller.signal,
      dispatcher,
    });
    statusCode = res.statusCode;
    const source = sink.source();
    for await (const chunk of res.body) source.write(chunk as Buffer);
    source.end();
  } catch (e) {
    if (ending === "timeout")
      return { ...fail(`request exceeded its timeout of ${cfg.timeoutSeconds}s`), statusCode };
    if (ending === "cancel") return { ...fail("job was cancelled"), statusCode };
    return { ...fail(`request failed: ${describeError(e)}`), statusCode };
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    req.signal.removeEventListener("abort", onAbort);
  }
  return { ...judge(cfg, statusCode, sink, note), statusCode };
}

/** The verdict on a response; `note` (ours, before the body) is not part of what expectBody sees. */
function judge(cfg: HttpConfig, status: number, sink: OutputSink, note = ""): ExecuteResult {
  const { output, truncated } = sink.result();
  const response = note && output.startsWith(note) ? output.slice(note.length) : output;
  const fail = (error: string): ExecuteResult => ({ success: false, output, truncated, error });
  if (cfg.expectCodes.length > 0 ? !cfg.expectCodes.includes(status) : status < 200 || status > 299) {
    const expected =
      cfg.expectCodes.length > 0 ? cfg.expectCodes.join(",") : "2xx (set expectCode to accept others)";
    return fail(`received response code ${status} does not match the expected code ${expected}`);
  }
  // Matched against the kept tail: a body over OUTPUT_TAIL_BYTES is never held whole in memory.
  if (cfg.expectBody !== undefined && !new RegExp(cfg.expectBody).test(response)) {
    return fail(`received response body did not match the expected body /${cfg.expectBody}/`);
  }
  return { success: true, output, truncated };
}

function buildHeaders(cfg: HttpConfig, req: ExecuteRequest): string[] {
  const ours = new Set(Object.values(IDENTITY_HEADERS).map((h) => h.toLowerCase()));
  // A job's own headers may not spoof the identity the runner vouches for.
  const flat = cfg.headers.filter(([name]) => !ours.has(name.toLowerCase())).flat();
  if (!cfg.headers.some(([name]) => name.toLowerCase() === "user-agent"))
    flat.push("User-Agent", "dkron-runner");
  const { identity } = req;
  flat.push(IDENTITY_HEADERS.jobName, identity.jobName);
  flat.push(IDENTITY_HEADERS.executionId, identity.executionId);
  flat.push(IDENTITY_HEADERS.scheduledAt, identity.scheduledAt);
  return flat;
}

async function tlsOptions(cfg: HttpConfig, readFile: (path: string) => Promise<Buffer>): Promise<TlsOptions> {
  // Dkron downgrades unreadable TLS files to a warning and carries on; we fail, because carrying on
  // without the operator's CA or client certificate talks to the server on terms they did not choose.
  const read = async (key: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      return await readFile(path);
    } catch (e) {
      throw new Error(`cannot read ${key} "${path}": ${(e as Error).message}`);
    }
  };
  const [ca, cert, key] = await Promise.all([
    read("tlsRootCAsFile", cfg.tlsRootCAsFile),
    read("tlsCertificateFile", cfg.tlsCertificateFile),
    read("tlsCertificateKeyFile", cfg.tlsCertificateKeyFile),
  ]);
  return {
    rejectUnauthorized: !cfg.tlsNoVerifyPeer,
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
  };
}

function describeError(e: unknown): string {
  const err = e as { message?: string; code?: string; cause?: unknown };
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${err.message || err.code || String(e)}${cause}`;
}
