/**
 * Fuzzing POST /v1/restore (issue 10 point 6): multipart forms written byte by byte (boundaries
 * announced and used, part names, filenames, endings) holding arrays of valid and mutated jobs,
 * JSON that is no array, and no JSON; url-encoded and mislabelled bodies too; against the real app
 * and store. Never a 5xx; a 4xx changes nothing; a 200 answers one line per job of the file and
 * changes only the jobs it says it created.
 *
 * Seeds: test/fuzz/fuzz.ts (FUZZ_SEED, FUZZ_PATH, FUZZ_RUNS); docs/testing.md.
 */
import fc from "fast-check";
import { describe } from "vitest";
import { fuzz } from "./fuzz";
import { fileContent, formBytes, formType, restoreForm } from "./gen-multipart";
import { type Answer, FuzzFailure, type FuzzWorld, inWorld, printable, type Req } from "./world";

const via = fc.constantFrom("app" as const, "worker" as const);

const restore: fc.Arbitrary<Req> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .record({
        form: restoreForm,
        via,
        type: fc.oneof(
          { weight: 8, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.constantFrom("multipart/form-data", "application/json", "text/plain") },
        ),
      })
      .map(({ form, via, type }) =>
        printable({
          method: "POST",
          path: "/v1/restore",
          headers: [["content-type", type ?? formType(form)]],
          body: formBytes(form),
          via,
        }),
      ),
  },
  {
    // `curl --data-urlencode file@jobs.json`: a url-encoded form.
    weight: 1,
    arbitrary: fc
      .record({ content: fileContent, via, name: fc.constantFrom("file", "files") })
      .map(({ content, via, name }) =>
        printable({
          method: "POST",
          path: "/v1/restore",
          headers: [["content-type", "application/x-www-form-urlencoded"]],
          body: `${name}=${encodeURIComponent(content)}`,
          via,
        }),
      ),
  },
);

/** The contents of the form's parts that are JSON arrays (one of them is the file restored). */
function arraysSent(req: Req): unknown[][] {
  const text =
    typeof req.body === "string"
      ? decodeURIComponent(req.body.replace(/^[^=]*=/, ""))
      : new TextDecoder().decode(req.body);
  const out: unknown[][] = [];
  for (const chunk of text.split(/\r\n\r\n/)) {
    const candidate = chunk.replace(/\r\n--[\s\S]*$/, "");
    try {
      const v = JSON.parse(candidate) as unknown;
      if (Array.isArray(v)) out.push(v);
    } catch {
      // Not this part.
    }
  }
  return out;
}

/** Stored jobs' rows by name. */
function jobRows(w: FuzzWorld): Map<string, string> {
  const rows = w.h.state.sqlite.prepare("SELECT * FROM jobs").all() as { name: string }[];
  return new Map(rows.map((r) => [r.name, JSON.stringify(r)]));
}

/** A 200: a result line per job of a file sent, and only the jobs it says it created changed. */
async function checkRestored(
  w: FuzzWorld,
  req: Req,
  ans: Answer,
  before: Map<string, string>,
): Promise<void> {
  const lines = ans.json as string[];
  if (!Array.isArray(lines) || !lines.every((l) => typeof l === "string"))
    throw new FuzzFailure(req, ans, "a 200 restore that is not an array of result strings");
  if (!arraysSent(req).some((a) => a.length === lines.length))
    throw new FuzzFailure(req, ans, `${lines.length} result lines, but no file sent holds that many jobs`);
  const created = new Set(lines.flatMap((l) => /^success create (\S+)/.exec(l)?.slice(1) ?? []));
  const after = jobRows(w);
  for (const name of created) {
    if (!after.has(name))
      throw new FuzzFailure(req, ans, `"success create ${name}" but the job is not stored`);
    const got = await w.check({ method: "GET", path: `/v1/jobs/${encodeURIComponent(name)}` });
    if (got.status !== 200)
      throw new FuzzFailure(req, ans, `"success create ${name}" but GET answers ${got.status}`);
  }
  for (const [name, row] of after)
    if (before.get(name) !== row && !created.has(name))
      throw new FuzzFailure(req, ans, `job ${name} changed, but no line says it was created`);
  for (const name of before.keys())
    if (!after.has(name)) throw new FuzzFailure(req, ans, `restore deleted job ${name}`);
}

describe("fuzz: restore", () => {
  fuzz(
    "POST /v1/restore with random and broken multipart forms: never 5xx, 4xx change nothing, 200 says what it wrote",
    fc.array(restore, { minLength: 1, maxLength: 3 }),
    (reqs) =>
      inWorld(async (w) => {
        for (const req of reqs) {
          const before = jobRows(w);
          const ans = await w.check(req);
          if (ans.status === 200) await checkRestored(w, req, ans, before);
          else if (ans.status < 400) throw new FuzzFailure(req, ans, `a restore answered ${ans.status}`);
        }
      }),
    60,
  );
});
