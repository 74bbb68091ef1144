/**
 * Fuzzing the query strings (issue 10 point 6): GET /v1/jobs (`_start`, `_end`, `_sort`, `_order`,
 * `q`, `status`, `disabled`, `metadata[k]=v`, junk keys, repeats, bad percent-encoding), GET
 * /v1/jobs/:job, GET /v1/jobs/:job/executions and GET /v1/schedule/preview, against the real app and
 * store. Never a 5xx; an error is well formed and changes nothing; a listing holds exactly the jobs
 * its filters select (a filter is never dropped silently).
 *
 * Seeds: test/fuzz/fuzz.ts (FUZZ_SEED, FUZZ_PATH, FUZZ_RUNS); docs/testing.md.
 */
import fc from "fast-check";
import { describe } from "vitest";
import { fuzz } from "./fuzz";
import { validJob } from "./gen-jobs";
import { jobSegment, listQuery, previewQuery } from "./gen-queries";
import { type Answer, FuzzFailure, type FuzzWorld, inWorld, printable, type Req } from "./world";

type JobJson = {
  name: string;
  displayname: string;
  status: string;
  disabled: boolean;
  metadata: Record<string, string> | null;
};

const via = fc.constantFrom("app" as const, "worker" as const);

const query = fc.oneof(
  fc.record({ kind: fc.constant("jobs" as const), q: listQuery, via }),
  fc.record({ kind: fc.constant("job" as const), job: jobSegment, q: listQuery, via }),
  fc.record({ kind: fc.constant("executions" as const), job: jobSegment, q: listQuery, via }),
  fc.record({ kind: fc.constant("preview" as const), q: previewQuery, via }),
  fc.record({ kind: fc.constant("audit" as const), q: listQuery, via }),
);

function toReq(x: fc.Arbitrary<typeof query extends fc.Arbitrary<infer T> ? T : never>): fc.Arbitrary<Req> {
  return x.map((v) => {
    const path =
      v.kind === "jobs"
        ? "/v1/jobs"
        : v.kind === "job"
          ? `/v1/jobs/${v.job}`
          : v.kind === "executions"
            ? `/v1/jobs/${v.job}/executions`
            : v.kind === "audit"
              ? "/v1/audit"
              : "/v1/schedule/preview";
    return printable({ method: "GET", path: path + v.q, via: v.via });
  });
}

/** The filters GET /v1/jobs applies, read from the query as Dkron defines them (first value wins). */
function filtersOf(path: string) {
  const params = new URL(`http://dkron.test${path}`).searchParams;
  const first = (k: string, emptyIsAbsent: boolean) => {
    const v = params.get(k);
    return v === null || (v === "" && emptyIsAbsent) ? undefined : v;
  };
  const metadata = new Map<string, string>();
  for (const [k, v] of params) {
    const m = /^metadata\[(.*)\]$/.exec(k);
    if (m && !metadata.has(m[1]!)) metadata.set(m[1]!, v);
  }
  return { q: first("q", true), status: first("status", true), disabled: first("disabled", false), metadata };
}

function selects(f: ReturnType<typeof filtersOf>, j: JobJson): boolean {
  if (f.q !== undefined && !j.name.includes(f.q) && !j.displayname.includes(f.q)) return false;
  if (f.status !== undefined && j.status !== (f.status === "untriggered" ? "" : f.status)) return false;
  if (f.disabled !== undefined && String(j.disabled) !== f.disabled) return false;
  for (const [k, v] of f.metadata) {
    if (!j.metadata || !Object.hasOwn(j.metadata, k) || j.metadata[k] !== v) return false;
  }
  return true;
}

/** A 200 listing: X-Total-Count is the number of jobs the filters select, and only those are listed. */
async function checkListing(w: FuzzWorld, req: Req, ans: Answer): Promise<void> {
  const all = (await w.check({ method: "GET", path: "/v1/jobs" })).json as JobJson[];
  const f = filtersOf(req.path);
  const want = all.filter((j) => selects(f, j)).map((j) => j.name);
  const items = ans.json as JobJson[];
  if (!Array.isArray(items)) throw new FuzzFailure(req, ans, "a listing that is not an array");
  const total = Number(ans.headers.get("x-total-count"));
  if (total !== want.length)
    throw new FuzzFailure(req, ans, `X-Total-Count ${total}, but the filters select ${want.length}: ${want}`);
  const stray = items.filter((j) => !want.includes(j.name));
  if (stray.length)
    throw new FuzzFailure(req, ans, `listed ${stray.map((j) => j.name)}, which the filters do not select`);
  if (items.length > total)
    throw new FuzzFailure(req, ans, `${items.length} items, more than the total ${total}`);
}

/** Hono's decoding of a path parameter: what decodes does, what does not stays as sent. */
function decodeParam(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (m) => {
      try {
        return decodeURIComponent(m);
      } catch {
        return m;
      }
    });
  }
}

/** A 200 execution listing: the job's executions only, counted in X-Total-Count. */
function checkExecutions(w: FuzzWorld, req: Req, ans: Answer): void {
  const segments = new URL(`http://dkron.test${req.path}`).pathname.split("/");
  if (segments.length !== 5 || segments[4] !== "executions") return;
  const job = decodeParam(segments[3]!);
  const items = ans.json as { job_name: string }[];
  if (!Array.isArray(items)) throw new FuzzFailure(req, ans, "an execution listing that is not an array");
  const stray = items.filter((e) => e.job_name !== job);
  if (stray.length)
    throw new FuzzFailure(req, ans, `lists executions of ${stray[0]!.job_name}, not of ${job}`);
  const stored = w.h.executions(job).length;
  if (Number(ans.headers.get("x-total-count")) !== stored)
    throw new FuzzFailure(
      req,
      ans,
      `X-Total-Count ${ans.headers.get("x-total-count")}, but ${job} has ${stored}`,
    );
}

/** Extra jobs so filters have something to tell apart (metadata values, statuses, disabled). */
const extraJobs = fc.array(
  validJob.map((j) => ({ ...j, parent_job: "", metadata: { team: "a", ...(j.metadata as object) } })),
  { maxLength: 3 },
);

describe("fuzz: query strings", () => {
  fuzz(
    "GET listings, jobs, executions and previews with random query strings: never 5xx, filters never dropped",
    fc.tuple(extraJobs, fc.array(toReq(query), { minLength: 1, maxLength: 5 })),
    ([jobs, reqs]) =>
      inWorld(async (w) => {
        for (const job of jobs) await w.send({ method: "POST", path: "/v1/jobs", body: JSON.stringify(job) });
        for (const req of reqs) {
          const ans = await w.check(req);
          if (ans.status !== 200) continue;
          if (req.path.startsWith("/v1/jobs?") || req.path === "/v1/jobs") await checkListing(w, req, ans);
          else if (/^\/v1\/jobs\/[^/?]+\/executions/.test(req.path)) checkExecutions(w, req, ans);
        }
      }),
    60,
  );
});
