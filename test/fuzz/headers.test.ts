/**
 * Fuzzing request headers (issue 10 point 6): Content-Type variants, Content-Length that lies
 * either way or is no number, Transfer-Encoding, CORS preflight headers, the control-api's own
 * caller headers sent from outside, and huge values, on job writes, listings, runs, deletes and
 * restores, against the real app and store. Never a 5xx; a 4xx changes nothing; a body over the
 * limit is never taken, whatever its headers say.
 *
 * Seeds: test/fuzz/fuzz.ts (FUZZ_SEED, FUZZ_PATH, FUZZ_RUNS); docs/testing.md.
 */
import fc from "fast-check";
import { describe } from "vitest";
import { DEFAULT_MAX_BODY_BYTES } from "../../edge/middleware/body-limit";
import { fuzz } from "./fuzz";
import { contentLength, contentType, headerValue, otherHeader } from "./gen-headers";
import { jobBody, validJob } from "./gen-jobs";
import { formBytes, formType, restoreForm } from "./gen-multipart";
import { FuzzFailure, inWorld, printable, type Req } from "./world";

const via = fc.constantFrom("app" as const, "worker" as const);

const HUGE_BOUNDARY = "----FuzzFormBoundaryHuge0123456789";

/** A job over the body limit that restore would otherwise store (restore warns about sizes, it does not refuse). */
const hugeRestore = fc
  .constantFrom(DEFAULT_MAX_BODY_BYTES - 300, DEFAULT_MAX_BODY_BYTES + 1, 2 * DEFAULT_MAX_BODY_BYTES)
  .map((n) => {
    const job = JSON.stringify([
      {
        name: "fz-huge",
        schedule: "@daily",
        executor: "shell",
        executor_config: { command: "true" },
        displayname: "x".repeat(n),
      },
    ]);
    return formBytes({
      boundary: HUGE_BOUNDARY,
      quoted: false,
      bodyBoundary: HUGE_BOUNDARY,
      parts: [{ name: "file", content: job }],
      ending: "close",
    });
  });

/** What the headers go on: a route and a body that fits it. */
const base: fc.Arbitrary<Omit<Req, "headers"> & { type?: string }> = fc.oneof(
  jobBody.map((body) => ({ method: "POST", path: "/v1/jobs", body })),
  validJob.map((j) => ({
    method: "PUT",
    path: `/v1/jobs/${encodeURIComponent(String(j.name))}`,
    body: JSON.stringify(j),
  })),
  fc.constant({ method: "GET", path: "/v1/jobs" }),
  fc.constant({ method: "POST", path: "/v1/jobs/base-shell/run" }),
  fc.constant({ method: "DELETE", path: "/v1/jobs/base-child" }),
  fc.constant({ method: "OPTIONS", path: "/v1/jobs" }),
  restoreForm.map((f) => ({ method: "POST", path: "/v1/restore", body: formBytes(f), type: formType(f) })),
  hugeRestore.map((body) => ({
    method: "POST",
    path: "/v1/restore",
    body,
    type: `multipart/form-data; boundary=${HUGE_BOUNDARY}`,
  })),
);

const bodySize = (b: Req["body"]) =>
  b === undefined ? 0 : typeof b === "string" ? new TextEncoder().encode(b).length : b.length;

const withHeaders: fc.Arbitrary<Req> = base.chain(({ type, ...req }) =>
  fc
    .record({
      type: fc.oneof({ weight: 2, arbitrary: fc.constant(type) }, { weight: 1, arbitrary: contentType }),
      length: fc.option(contentLength(bodySize(req.body)), { freq: 2 }),
      others: fc.array(otherHeader, { maxLength: 3 }),
      huge: fc.option(fc.tuple(fc.constantFrom("x-junk", "user-agent", "accept"), headerValue), { freq: 4 }),
      via,
    })
    .map(({ type, length, others, huge, via }) => {
      const headers: [string, string][] = [];
      if (type !== undefined) headers.push(["content-type", type]);
      if (length !== null) headers.push(["content-length", length]);
      headers.push(...others);
      if (huge) headers.push(huge);
      return printable({ ...req, headers, via });
    }),
);

describe("fuzz: headers", () => {
  fuzz(
    "odd Content-Type, lying Content-Length and huge headers: never 5xx, 4xx change nothing, no body over the limit taken",
    fc.array(withHeaders, { minLength: 1, maxLength: 4 }),
    (reqs) =>
      inWorld(async (w) => {
        for (const req of reqs) {
          const ans = await w.check(req);
          if (ans.status < 400 && bodySize(req.body) > DEFAULT_MAX_BODY_BYTES)
            throw new FuzzFailure(req, ans, `a ${bodySize(req.body)}-byte body, over the limit, was taken`);
        }
      }),
    40,
  );
});
