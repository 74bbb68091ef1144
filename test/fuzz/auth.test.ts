/**
 * Fuzzing Authorization (issue 10 point 6): valid requests to every kind of /v1 route carrying the
 * admin token, a read-only token or a prefix-limited one, as they are, in other spellings, or
 * mutated (a character changed, cut, extended, another token's id or secret, other schemes, huge,
 * junk), against the real app and store with tokens checked as a node does. Never a 5xx; a token
 * that is not one of the world's is 401 and changes nothing; a real one does what its scopes and
 * prefix allow and no more (403 otherwise).
 *
 * Seeds: test/fuzz/fuzz.ts (FUZZ_SEED, FUZZ_PATH, FUZZ_RUNS); docs/testing.md.
 */
import fc from "fast-check";
import { describe } from "vitest";
import { fuzz } from "./fuzz";
import { headerValue } from "./gen-headers";
import { validJob } from "./gen-jobs";
import { type Answer, FuzzFailure, type FuzzWorld, inWorld, printable, type Req } from "./world";

/** The tokens of a world: what each may do. */
interface Tokens {
  admin: string;
  /** Scopes read. */
  reader: string;
  /** Scopes write and run, jobs starting with "fz-" only. */
  fz: string;
}

type Who = keyof Tokens;

/** A route and what it needs: the scope, and the job it is about (for a prefix-limited token). */
interface Call {
  method: string;
  path: string;
  body?: string;
  scope: "read" | "write" | "run" | "admin";
  job?: string;
}

const job = (name: string) =>
  JSON.stringify({ name, schedule: "@daily", executor: "shell", executor_config: { command: "true" } });

const call: fc.Arbitrary<Call> = fc.oneof(
  fc.constant({ method: "GET", path: "/v1/", scope: "read" as const }),
  fc.constant({ method: "GET", path: "/v1/members", scope: "read" as const }),
  fc.constant({ method: "GET", path: "/v1/jobs", scope: "read" as const }),
  fc
    .constantFrom("base-shell", "fz-mine")
    .map((j) => ({ method: "GET", path: `/v1/jobs/${j}`, scope: "read" as const, job: j })),
  fc.constant({
    method: "GET",
    path: "/v1/jobs/base-shell/executions",
    scope: "read" as const,
    job: "base-shell",
  }),
  fc.constant({ method: "GET", path: "/v1/schedule/preview?schedule=@daily", scope: "read" as const }),
  fc
    .constantFrom("fz-new", "base-shell")
    .map((j) => ({ method: "POST", path: "/v1/jobs", body: job(j), scope: "write" as const, job: j })),
  validJob.map((j) => ({
    method: "POST",
    path: "/v1/jobs",
    body: JSON.stringify({ ...j, parent_job: "" }),
    scope: "write" as const,
    job: String(j.name),
  })),
  fc
    .constantFrom("base-shell", "fz-mine")
    .map((j) => ({ method: "POST", path: `/v1/jobs/${j}/run`, scope: "run" as const, job: j })),
  fc
    .constantFrom("base-child", "fz-mine")
    .map((j) => ({ method: "POST", path: `/v1/jobs/${j}/toggle`, scope: "write" as const, job: j })),
  fc
    .constantFrom("base-child", "fz-mine")
    .map((j) => ({ method: "DELETE", path: `/v1/jobs/${j}`, scope: "write" as const, job: j })),
  fc.constant({
    method: "DELETE",
    path: "/v1/jobs/base-shell/executions",
    scope: "write" as const,
    job: "base-shell",
  }),
  fc.constant({ method: "GET", path: "/v1/tokens", scope: "admin" as const }),
  fc.constant({
    method: "POST",
    path: "/v1/tokens",
    body: '{"name":"fz-t","scopes":["read"]}',
    scope: "admin" as const,
  }),
  fc.constant({ method: "GET", path: "/v1/audit", scope: "admin" as const }),
  fc.constantFrom("fz-mine", "base-shell").map((j) => ({
    method: "POST",
    path: "/v1/webhooks",
    body: JSON.stringify({ job: j }),
    scope: "write" as const,
    job: j,
  })),
  fc.constant({ method: "GET", path: "/v1/webhooks", scope: "read" as const }),
);

/** An Authorization header: built from one of the world's tokens, maybe spelled or mutated. */
type Auth =
  | { kind: "as-is"; who: Who; spelling: string }
  | { kind: "flip" | "cut" | "extend"; who: Who; at: number; char: string }
  | { kind: "swap"; who: Who; other: Who; part: "id" | "secret" }
  | { kind: "wrap"; who: Who; wrap: string }
  | { kind: "junk"; value: string }
  | { kind: "none" }
  | { kind: "caller-header"; who: Who };

const who = fc.constantFrom<Who>("admin", "reader", "fz");
const tokenChar = fc.constantFrom("A", "z", "0", "-", "_", ".", " ", "é", "\t", "+");

const auth: fc.Arbitrary<Auth> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("as-is" as const),
      who,
      spelling: fc.constantFrom("Bearer ", "bearer ", "BEARER   ", "Bearer\t", ""),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constantFrom("flip" as const, "cut" as const, "extend" as const),
      who,
      at: fc.nat(),
      char: tokenChar,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("swap" as const),
      who,
      other: who,
      part: fc.constantFrom("id" as const, "secret" as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("wrap" as const),
      who,
      wrap: fc.constantFrom(
        "Basic %",
        "Token %",
        "Bearer %, Bearer junk",
        "Bearer junk, Bearer %",
        "Bearer % extra",
        "Bearer Bearer %",
        'Bearer "%"',
        "%%",
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("junk" as const),
      value: fc.oneof(
        headerValue,
        headerValue.map((v) => `Bearer ${v}`),
        fc.constantFrom(
          "Bearer",
          "Bearer ",
          "Bearer dkt..",
          "Bearer dkt.AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
        ),
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "none" as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("caller-header" as const), who }) },
);

/** The headers `a` stands for with the world's tokens. */
function headersOf(a: Auth, t: Tokens): [string, string][] {
  const tok = (w: Who) => t[w];
  switch (a.kind) {
    case "as-is":
      return [["authorization", `${a.spelling}${tok(a.who)}`]];
    case "flip": {
      const s = tok(a.who);
      const at = a.at % s.length;
      const c = s[at] === a.char ? (a.char === "A" ? "B" : "A") : a.char;
      return [["authorization", `Bearer ${s.slice(0, at)}${c}${s.slice(at + 1)}`]];
    }
    case "cut": {
      const s = tok(a.who);
      return [["authorization", `Bearer ${s.slice(0, a.at % s.length)}`]];
    }
    case "extend": {
      const s = tok(a.who);
      const at = a.at % (s.length + 1);
      return [["authorization", `Bearer ${s.slice(0, at)}${a.char}${s.slice(at)}`]];
    }
    case "swap": {
      const [, id1, secret1] = tok(a.who).split(".");
      const [, id2, secret2] = tok(a.other).split(".");
      return [["authorization", `Bearer dkt.${a.part === "id" ? `${id2}.${secret1}` : `${id1}.${secret2}`}`]];
    }
    case "wrap":
      return [["authorization", a.wrap.replace("%", tok(a.who))]];
    case "junk":
      return [["authorization", a.value]];
    case "none":
      return [];
    case "caller-header":
      // The control-api's own header, sent to the edge from outside, next to a bad token.
      return [
        ["authorization", "Bearer nope"],
        ["x-dkron-caller-token", tok(a.who)],
      ];
  }
}

/** Which token the request presents, as a client means it ("Bearer" optional, case-insensitive). */
function presented(headers: [string, string][], t: Tokens): Who | undefined {
  const h = headers.find(([k]) => k === "authorization")?.[1];
  if (h === undefined) return undefined;
  const token = h.trim().replace(/^bearer(?:\s+|$)/i, "");
  return (Object.keys(t) as Who[]).find((w) => t[w] === token);
}

function allows(w: Who, c: Call): boolean {
  if (w === "admin") return true;
  if (w === "reader") return c.scope === "read";
  return (
    (c.scope === "read" || c.scope === "write" || c.scope === "run") &&
    (c.job === undefined || c.job.startsWith("fz-"))
  );
}

async function mint(w: FuzzWorld, body: object): Promise<string> {
  const res = await w.send({ method: "POST", path: "/v1/tokens", body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`minting a token: ${res.status} ${res.text}`);
  return (res.json as { token: string }).token;
}

function checkAnswer(w: FuzzWorld, req: Req, ans: Answer, c: Call, t: Tokens): void {
  const as = presented(req.headers ?? [], t);
  const code = (ans.json as { error?: { code?: string } } | undefined)?.error?.code;
  if (as === undefined) {
    if (ans.status !== 401 || code !== "UNAUTHORIZED")
      throw new FuzzFailure(req, ans, "a request without a valid token was not answered 401 UNAUTHORIZED");
    if (!/^Bearer/.test(ans.headers.get("www-authenticate") ?? ""))
      throw new FuzzFailure(req, ans, "a 401 without WWW-Authenticate: Bearer");
    return;
  }
  if (ans.status === 401) throw new FuzzFailure(req, ans, `the ${as} token was refused as unknown`);
  if (!allows(as, c) && ans.status < 400)
    throw new FuzzFailure(req, ans, `the ${as} token did what its scopes do not allow`);
  // A job body is validated before its name is checked against the token's prefix.
  const invalidJob = c.method === "POST" && c.path === "/v1/jobs" && code === "VALIDATION";
  if (!allows(as, c) && code !== "FORBIDDEN" && !invalidJob)
    throw new FuzzFailure(
      req,
      ans,
      `the ${as} token went past its scopes with ${code} rather than FORBIDDEN`,
    );
  if (as === "fz" && c.path === "/v1/jobs" && c.method === "GET") {
    const names = (ans.json as { name: string }[]).map((j) => j.name);
    if (names.some((n) => !n.startsWith("fz-")))
      throw new FuzzFailure(req, ans, `the fz- token lists ${names}`);
  }
  void w;
}

describe("fuzz: authorization", () => {
  fuzz(
    "random and mutated tokens on every kind of route: never 5xx, unknown ones 401, real ones within their scopes",
    fc.array(fc.tuple(call, auth, fc.constantFrom("app" as const, "worker" as const)), {
      minLength: 1,
      maxLength: 5,
    }),
    (cases) =>
      inWorld(async (w) => {
        const t: Tokens = {
          admin: w.token,
          reader: await mint(w, { name: "reader", scopes: ["read"] }),
          fz: await mint(w, { name: "fz", scopes: ["write", "run"], prefix: "fz-" }),
        };
        await w.send({ method: "POST", path: "/v1/jobs", body: job("fz-mine") });
        for (const [c, a, via] of cases) {
          const req = printable({
            method: c.method,
            path: c.path,
            ...(c.body !== undefined && { body: c.body }),
            headers: [["content-type", "application/json"], ...headersOf(a, t)],
            as: "headers" as const,
            via,
          });
          checkAnswer(w, req, await w.check(req), c, t);
        }
      }),
    40,
  );
});
