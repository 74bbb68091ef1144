import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { ErrorCodes, httpStatusOf } from "../../shared/errors";
import { type ApiHarness, apiHarness } from "../helpers/api-harness";
import { ControlHarness } from "../helpers/control-harness";
import { tempDir } from "../helpers/tmp";

/**
 * Where worlds keep their SQLite files: a memory-backed file system where there is one (Linux), so
 * the thousands of fsyncs of a fuzz run cost nothing; the files are as real as on disk otherwise.
 */
const WORLD_TMP = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();

/** One HTTP request of a fuzz case, kept as data so fast-check can shrink and print it. */
export interface Req {
  method: string;
  /** Path and query as sent: not re-encoded, so bad percent-encoding reaches the app. */
  path: string;
  headers?: [string, string][];
  body?: string | Uint8Array<ArrayBuffer>;
  /**
   * `app`: the edge app as a control node mounts it (the service in-process); `worker`: as a Worker
   * runs it (the control-api as JSON over fetch). Both must answer alike.
   */
  via?: "app" | "worker";
  /**
   * Who sends it: the world's admin token (default), no Authorization header at all, or the
   * Authorization header in `headers` as it is.
   */
  as?: "admin" | "anonymous" | "headers";
}

/** A response, read whole. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** Baseline jobs every fuzz world starts with (so the fuzzed requests meet real state). */
export const BASE_JOBS = ["base-shell", "base-http", "base-parent", "base-child"] as const;

const BASELINE: Record<string, unknown>[] = [
  {
    name: "base-shell",
    schedule: "@every 1m",
    executor: "shell",
    executor_config: { command: "echo hi" },
    metadata: { team: "a", tier: "1" },
    tags: { role: "worker:1" },
  },
  {
    name: "base-http",
    schedule: "0 30 9 * * *",
    timezone: "Europe/Berlin",
    disabled: true,
    executor: "http",
    executor_config: { url: "http://example.test/hook", method: "POST", body: "{}", expectCode: "200" },
    metadata: { team: "b" },
  },
  { name: "base-parent", schedule: "@daily", executor: "shell", executor_config: { command: "true" } },
  {
    name: "base-child",
    schedule: "",
    parent_job: "base-parent",
    executor: "shell",
    executor_config: { command: "true" },
  },
];

/** Short, printable text of a request (bodies and header values cut), for failure messages. */
export function describeReq(r: Req): string {
  const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s);
  const body =
    r.body === undefined
      ? ""
      : typeof r.body === "string"
        ? `\n  body: ${JSON.stringify(cut(r.body, 600))}`
        : `\n  body: ${r.body.length} bytes ${JSON.stringify(cut(new TextDecoder().decode(r.body), 600))}`;
  const headers = (r.headers ?? []).map(([k, v]) => `\n  ${k}: ${JSON.stringify(cut(v, 200))}`).join("");
  const as = r.as === "anonymous" ? " without a token" : r.as === "headers" ? "" : " as admin";
  return `${r.method} ${JSON.stringify(cut(r.path, 300))} via ${r.via ?? "app"}${as}${headers}${body}`;
}

/** Gives a request fast-check's printable form (describeReq), so huge bodies do not flood a report. */
export function printable<T extends Req>(r: T): T {
  return Object.assign(r, { [fc.toStringMethod]: () => describeReq(r) });
}

/** Answers seen by `check` in this file, as "METHOD status code" → count (printed under FUZZ_STATS). */
export const answerStats = new Map<string, number>();

/** A failed check: what was sent, what came back, why it is wrong. */
export class FuzzFailure extends Error {
  constructor(req: Req, ans: Answer | undefined, why: string) {
    const got = ans ? `\n→ ${ans.status} ${ans.text.slice(0, 800)}` : "";
    super(`${why}\n${describeReq(req)}${got}`);
    this.name = "FuzzFailure";
  }
}

/**
 * A fresh control plane for one fuzz case: a real one-voter Raft over real SQLite files in a temp
 * dir on a virtual clock (ControlHarness), the real edge app over it both ways (apiHarness), and the
 * baseline jobs, one of which has run once.
 */
export class FuzzWorld {
  private constructor(
    readonly h: ControlHarness,
    readonly api: ApiHarness,
    private readonly tables: string[],
    private readonly cleanup: () => void,
    /** An admin token, sent with every request unless it says otherwise (`Req.as`). */
    readonly token: string,
  ) {}

  /** Starts a world; close it with `close`. */
  static async start(): Promise<FuzzWorld> {
    const dir = tempDir("dkron-fuzz-", WORLD_TMP);
    let h: ControlHarness;
    try {
      // Tokens checked, as a node does by default.
      h = await ControlHarness.start({ file: join(dir.path, "state.db"), auth: "tokens" });
    } catch (e) {
      dir.cleanup();
      throw e;
    }
    const tables = (
      h.state.sqlite
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%' ORDER BY name",
        )
        .all() as { name: string }[]
    ).map((t) => t.name);
    const w = new FuzzWorld(h, apiHarness(h), tables, dir.cleanup, "");
    let world = w;
    try {
      world = new FuzzWorld(h, w.api, tables, dir.cleanup, await h.adminToken());
      for (const job of BASELINE) {
        const res = await world.send({ method: "POST", path: "/v1/jobs", body: JSON.stringify(job) });
        if (res.status !== 201) throw new Error(`baseline job ${job.name}: ${res.status} ${res.text}`);
      }
      const run = await world.send({ method: "POST", path: "/v1/jobs/base-shell/run" });
      if (run.status !== 200) throw new Error(`baseline run: ${run.status} ${run.text}`);
      for (const r of h.hub.runs()) await h.finish(r.execution_id);
    } catch (e) {
      await w.close();
      throw e;
    }
    return world;
  }

  /** Sends one request and lets Raft run until it is answered; rejects if the app throws or hangs. */
  async send(req: Req): Promise<Answer> {
    const app = req.via === "worker" ? this.api.worker : this.api.app;
    // Request upper-cases the standard methods, "get" too, and refuses a GET or HEAD with a body.
    const bodyless = ["GET", "HEAD"].includes(req.method.toUpperCase());
    const headers = new Headers(req.headers ?? []);
    if ((req.as ?? "admin") !== "headers") headers.delete("authorization");
    if ((req.as ?? "admin") === "admin") headers.set("authorization", `Bearer ${this.token}`);
    const request = new Request(`http://dkron.test${req.path}`, {
      method: req.method,
      headers,
      ...(req.body !== undefined && !bodyless && { body: req.body }),
    });
    let done = false;
    const answer = Promise.resolve()
      .then(() => app.fetch(request))
      .then(async (res: Response) => {
        const text = await res.text();
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        return { status: res.status, headers: res.headers, text, json };
      })
      .finally(() => {
        done = true;
      });
    for (let round = 0; round < 200 && !done; round++) await this.h.settle(5);
    if (!done)
      throw new FuzzFailure(
        req,
        undefined,
        "the app did not answer (it waits on something that never comes)",
      );
    return answer.catch((e: unknown) => {
      throw new FuzzFailure(req, undefined, `the app threw instead of answering: ${String(e)}`);
    });
  }

  /** Every row of every state table (meta's last_applied aside), plus the frames sent to runners. */
  snapshot(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const t of this.tables) {
      const rows = this.h.state.sqlite.prepare(`SELECT * FROM "${t}"`).all() as Record<string, unknown>[];
      out[t] = rows
        // last_applied moves with every committed entry, a refused one too: that is the log, not state.
        .filter((r) => !(t === "meta" && r.key === "last_applied"))
        .map((r) => JSON.stringify(r))
        .sort();
    }
    out["(runner frames)"] = this.h.hub.sent.map((s) => JSON.stringify(s));
    return out;
  }
  /** Names of the jobs stored now. */
  jobNames(): string[] {
    return (
      this.h.state.sqlite.prepare("SELECT name FROM jobs ORDER BY name").all() as { name: string }[]
    ).map((r) => r.name);
  }

  /**
   * Sends `req` and checks what every answer must be: below 500, an error as `{"error":{code,
   * message}}` with a known code whose status it has, and nothing changed by a 4xx. Returns the
   * answer for route-specific checks.
   */
  async check(req: Req): Promise<Answer> {
    await this.h.settle();
    const before = this.snapshot();
    const ans = await this.send(req);
    await this.h.settle();
    const code = (ans.json as { error?: { code?: string } } | undefined)?.error?.code ?? "";
    const route = req.path
      .split("?")[0]!
      .replace(/^(\/v1\/jobs\/)[^/]+/, "$1:job")
      .slice(0, 40);
    const msg =
      process.env.FUZZ_STATS === "2"
        ? ((ans.json as { error?: { message?: string } } | undefined)?.error?.message ?? "").slice(0, 70)
        : "";
    const key = `${req.method} ${route} ${ans.status} ${code} ${msg}`.trim();
    answerStats.set(key, (answerStats.get(key) ?? 0) + 1);
    if (ans.status >= 500) throw new FuzzFailure(req, ans, `a ${ans.status} answer`);
    if (ans.status >= 400 && req.method !== "HEAD") checkErrorBody(req, ans);
    if (ans.status >= 400) unchanged(req, ans, code, before, this.snapshot());
    return ans;
  }

  /** Stops the node and removes its files. */
  async close(): Promise<void> {
    try {
      await this.h.close();
    } finally {
      this.cleanup();
    }
  }
}

/** Runs `body` in a fresh world and closes it, whatever happens. */
export async function inWorld(body: (w: FuzzWorld) => Promise<void>): Promise<void> {
  const w = await FuzzWorld.start();
  try {
    await body(w);
  } finally {
    await w.close();
  }
}

function checkErrorBody(req: Req, ans: Answer): void {
  const err = (ans.json as { error?: { code?: unknown; message?: unknown; field?: unknown } } | undefined)
    ?.error;
  if (typeof err !== "object" || err === null)
    throw new FuzzFailure(req, ans, 'an error answer whose body is not {"error":{...}}');
  const code = err.code as (typeof ErrorCodes)[number];
  if (!ErrorCodes.includes(code))
    throw new FuzzFailure(req, ans, `an error with an unknown code ${String(code)}`);
  if (typeof err.message !== "string" || err.message === "")
    throw new FuzzFailure(req, ans, "an error without a message");
  if (code === "VALIDATION" && (typeof err.field !== "string" || err.field === ""))
    throw new FuzzFailure(req, ans, "a VALIDATION error that names no field");
  if (httpStatusOf[code] !== ans.status)
    throw new FuzzFailure(req, ans, `code ${code} answered with ${ans.status}, not ${httpStatusOf[code]}`);
}

/**
 * A 4xx changed nothing: every table as it was, but for the audit log, which records a change the
 * state machine refused with its error code (docs/security.md): a refusal may add such records only.
 */
function unchanged(
  req: Req,
  ans: Answer,
  code: string,
  before: Record<string, string[]>,
  after: Record<string, string[]>,
) {
  const lines: string[] = [];
  for (const t of Object.keys(after)) {
    const was = new Set(before[t] ?? []);
    const now = new Set(after[t]);
    const added = after[t]!.filter((r) => !was.has(r));
    const removed = (before[t] ?? []).filter((r) => !now.has(r));
    const refusals =
      t === "audit" ? added.filter((r) => (JSON.parse(r) as { outcome: string }).outcome === code) : [];
    for (const r of added) if (!refusals.includes(r)) lines.push(`  + ${t}: ${r.slice(0, 300)}`);
    for (const r of removed) lines.push(`  - ${t}: ${r.slice(0, 300)}`);
  }
  if (lines.length)
    throw new FuzzFailure(req, ans, `a ${ans.status} answer changed the state:\n${lines.join("\n")}`);
}
