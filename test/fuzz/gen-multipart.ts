import fc from "fast-check";
import { junkValue, mutatedJob, nastyString, validJob } from "./gen-jobs";

// multipart/form-data bodies for POST /v1/restore, written byte by byte so that every part of the
// format can be wrong: the boundary, the part headers, the field name, the file's content.

/** One part of a form. */
export interface Part {
  /** The name in Content-Disposition (undefined: no name parameter at all). */
  name: string | undefined;
  filename?: string;
  type?: string;
  content: string;
}

/** A form as written: the boundary announced in Content-Type, the one used in the body, the parts. */
export interface Form {
  boundary: string;
  /** Whether Content-Type quotes the boundary (needed when it holds characters such as = or /). */
  quoted: boolean;
  /** The boundary the body actually uses (usually the same). */
  bodyBoundary: string;
  parts: Part[];
  /** How the body ends: properly, without the closing boundary, or with junk after it. */
  ending: "close" | "open" | "junk";
}

/** The Content-Type announcing a form's boundary. */
export function formType(f: Form): string {
  return `multipart/form-data; boundary=${f.quoted ? `"${f.boundary}"` : f.boundary}`;
}

/** The bytes of a form. */
export function formBytes(f: Form): Uint8Array<ArrayBuffer> {
  const lines: string[] = [];
  for (const p of f.parts) {
    lines.push(`--${f.bodyBoundary}`);
    const disp = [
      "form-data",
      ...(p.name === undefined ? [] : [`name="${p.name}"`]),
      ...(p.filename === undefined ? [] : [`filename="${p.filename}"`]),
    ].join("; ");
    lines.push(`Content-Disposition: ${disp}`);
    if (p.type !== undefined) lines.push(`Content-Type: ${p.type}`);
    lines.push("", p.content);
  }
  const end =
    f.ending === "open" ? "" : `--${f.bodyBoundary}--\r\n${f.ending === "junk" ? "trailing junk" : ""}`;
  return new TextEncoder().encode(`${lines.join("\r\n")}\r\n${end}`);
}

/** A backup file's text: an array of valid or mutated jobs, or JSON that is no array, or no JSON. */
export const fileContent: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.array(validJob, { maxLength: 4 }).map((a) => JSON.stringify(a)) },
  {
    weight: 4,
    arbitrary: fc
      .array(fc.oneof(validJob, mutatedJob, junkValue), { minLength: 1, maxLength: 4 })
      .map((a) => JSON.stringify(a)),
  },
  { weight: 1, arbitrary: junkValue.map((v) => JSON.stringify(v) ?? "null") },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "",
      "[",
      "[{",
      "not json",
      "[]",
      "{}",
      "null",
      '"[]"',
      "[1,2]",
      "[[]]",
      "[null]",
      '[{"name":"x"',
    ),
  },
  // Nested past what JSON.stringify can forward.
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(65, 5_000, 50_000)
      .map(
        (n) =>
          `[{"name":"fz-deep","executor":"shell","executor_config":{"command":"true"},"x":${"[".repeat(n)}${"]".repeat(n)}}]`,
      ),
  },
  // Parents and children in one file, in either order, and a cycle.
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '[{"name":"fz-kid","parent_job":"fz-dad","executor":"shell","executor_config":{"command":"true"}},{"name":"fz-dad","schedule":"@daily","executor":"shell","executor_config":{"command":"true"}}]',
      '[{"name":"fz-a","parent_job":"fz-b","executor":"shell","executor_config":{"command":"true"}},{"name":"fz-b","parent_job":"fz-a","executor":"shell","executor_config":{"command":"true"}}]',
      '[{"name":"base-parent","parent_job":"base-child","executor":"shell","executor_config":{"command":"true"}}]',
    ),
  },
);

const boundary = fc.oneof(
  fc.constantFrom("fz-boundary", "----WebKitFormBoundary7MA4YWxkTrZu0gW", "x"),
  fc.stringMatching(/^[A-Za-z0-9'()+_,./:=?-]{1,70}$/),
);

const part: fc.Arbitrary<Part> = fc.record(
  {
    name: fc.oneof(
      { weight: 6, arbitrary: fc.constant("file") },
      { weight: 1, arbitrary: fc.constantFrom("files", "File", "file[]", "", "data", " file") },
      { weight: 1, arbitrary: fc.constant(undefined) },
    ),
    filename: fc.constantFrom("jobs.json", "", "../../etc/passwd", "é.json"),
    type: fc.constantFrom("application/json", "text/plain", "application/octet-stream", ""),
    content: fileContent,
  },
  { requiredKeys: ["name", "content"] },
);

/**
 * A form as curl or a browser sends it: one `file` part, a long boundary, closed. Long, because
 * Node's form parser (undici) fails a form whose content holds the boundary anywhere, even
 * without the leading dashes; clients pick boundaries no content holds for that reason.
 */
const wellFormed: fc.Arbitrary<Form> = fc
  .record({ boundary: fc.stringMatching(/^[A-Za-z0-9]{16,24}$/), content: fileContent, quoted: fc.boolean() })
  .map(({ boundary: tail, content, quoted }) => ({
    boundary: `----FuzzFormBoundary${tail}`,
    quoted,
    bodyBoundary: `----FuzzFormBoundary${tail}`,
    parts: [{ name: "file", filename: "jobs.json", type: "application/json", content }],
    ending: "close" as const,
  }));

/** Anything a form can be: boundaries used and announced, parts, names, endings. */
const anyForm: fc.Arbitrary<Form> = fc
  .record({
    boundary,
    quoted: fc.boolean(),
    wrongBoundary: fc.oneof(
      { weight: 9, arbitrary: fc.constant(false) },
      { weight: 1, arbitrary: fc.constant(true) },
    ),
    parts: fc.array(part, { minLength: 0, maxLength: 3 }),
    ending: fc.constantFrom("close", "close", "close", "open", "junk"),
    junk: nastyString,
  })
  .map(({ boundary, quoted, wrongBoundary, parts, ending, junk }) => ({
    boundary,
    quoted,
    bodyBoundary: wrongBoundary ? `${boundary}${junk || "z"}` : boundary,
    parts,
    ending,
  }));

/** A restore form: mostly well formed (so the file inside is what is fuzzed), else anything. */
export const restoreForm: fc.Arbitrary<Form> = fc.oneof(
  { weight: 2, arbitrary: wellFormed },
  { weight: 1, arbitrary: anyForm },
);
