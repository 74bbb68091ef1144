/**
 * Fuzzing the job writes (issue 10 point 6): random JSON, valid job bodies and mutated ones (dropped
 * fields, wrong types, huge strings, unicode, prototype keys, edge numbers, broken JSON text) sent with
 * POST and PATCH /v1/jobs and PUT /v1/jobs/:job to the real edge app over a real one-voter Raft and
 * SQLite store, in-process and as a Worker reaches it. Every answer is below 500 with a well-formed
 * error; a 4xx changes no state table; a 201 stored the job it describes, with the fields sent.
 *
 * Seeds: test/fuzz/fuzz.ts (FUZZ_SEED, FUZZ_PATH, FUZZ_RUNS); docs/testing.md.
 */
import fc from "fast-check";
import { describe } from "vitest";
import { fuzz } from "./fuzz";
import { jobBody } from "./gen-jobs";
import { FuzzFailure, type FuzzWorld, inWorld, printable, type Req } from "./world";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const via = fc.constantFrom("app" as const, "worker" as const);

/** One job write: the method and path it goes to, the body, maybe ?runoncreate. */
const write: fc.Arbitrary<Req> = fc
  .record({
    body: jobBody,
    how: fc.constantFrom("POST", "PATCH", "PUT-same", "PUT-other", "PUT-encoded"),
    runoncreate: fc.boolean(),
    via,
  })
  .map(({ body, how, runoncreate, via }) => {
    let name = "fz-other";
    try {
      const parsed = JSON.parse(body) as unknown;
      if (isObj(parsed) && typeof parsed.name === "string") name = parsed.name;
    } catch {
      // Not JSON: any path will do.
    }
    const query = runoncreate ? "?runoncreate" : "";
    const path =
      how === "PUT-same"
        ? `/v1/jobs/${encodeURIComponent(name)}`
        : how === "PUT-other"
          ? "/v1/jobs/fz-other"
          : how === "PUT-encoded"
            ? `/v1/jobs/${name}`
            : "/v1/jobs";
    const method = how.startsWith("PUT") ? "PUT" : how;
    return printable({
      method,
      path: path + query,
      body,
      via,
      headers: [["content-type", "application/json"]],
    });
  });

/** Fields whose value is stored as sent when the job is accepted. */
const AS_SENT = [
  "name",
  "displayname",
  "timezone",
  "schedule",
  "owner",
  "owner_email",
  "parent_job",
  "executor",
];

/** A 201: the job is stored, GET answers what the write answered, and what was sent was kept. */
async function checkStored(
  w: FuzzWorld,
  req: Req,
  ans: { json: unknown; status: number; text: string; headers: Headers },
) {
  const job = ans.json as Obj;
  if (!isObj(job) || typeof job.name !== "string")
    throw new FuzzFailure(req, ans, "a 201 without a job body");
  const got = await w.check({ method: "GET", path: `/v1/jobs/${encodeURIComponent(job.name)}` });
  if (got.status !== 200)
    throw new FuzzFailure(req, ans, `the job written is not readable: GET → ${got.status}`);
  const stored = got.json as Obj;
  for (const k of [
    ...AS_SENT,
    "tags",
    "metadata",
    "executor_config",
    "retries",
    "disabled",
    "concurrency",
    "dst",
  ]) {
    if (JSON.stringify(stored[k]) !== JSON.stringify(job[k]))
      throw new FuzzFailure(
        req,
        ans,
        `GET answers ${k}=${JSON.stringify(stored[k])}, the write answered ${JSON.stringify(job[k])}`,
      );
  }
  // The edge decodes bodies as UTF-8 with TextDecoder, which drops a leading byte order mark.
  const sent = JSON.parse(typeof req.body === "string" ? req.body.replace(/^\ufeff/, "") : "null") as unknown;
  if (!isObj(sent)) throw new FuzzFailure(req, ans, "a 201 for a body that is not an object");
  for (const k of AS_SENT) {
    if (typeof sent[k] === "string" && sent[k] !== stored[k])
      throw new FuzzFailure(
        req,
        ans,
        `${k} was sent as ${JSON.stringify(sent[k])} but stored as ${JSON.stringify(stored[k])}`,
      );
  }
  for (const k of ["tags", "metadata", "executor_config"]) {
    const m = sent[k];
    if (!isObj(m)) continue;
    const want = Object.fromEntries(Object.entries(m).map(([mk, mv]) => [mk, String(mv)]));
    const have = (stored[k] ?? {}) as Obj;
    if (JSON.stringify(Object.entries(want).sort()) !== JSON.stringify(Object.entries(have).sort()))
      throw new FuzzFailure(
        req,
        ans,
        `${k} was sent as ${JSON.stringify(m)} but stored as ${JSON.stringify(stored[k])}`,
      );
  }
}

describe("fuzz: job writes", () => {
  fuzz(
    "POST/PATCH/PUT /v1/jobs with random and mutated bodies: never 5xx, 4xx change nothing, 201 stores the job",
    fc.array(write, { minLength: 1, maxLength: 4 }),
    (reqs) =>
      inWorld(async (w) => {
        for (const req of reqs) {
          const ans = await w.check(req);
          if (ans.status === 201) await checkStored(w, req, ans);
          else if (ans.status < 400)
            throw new FuzzFailure(req, ans, `a job write answered ${ans.status}, not 201 or an error`);
        }
      }),
    40,
  );
});
