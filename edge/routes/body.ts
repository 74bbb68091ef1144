import type { Context } from "hono";
import { AppError, readLimitedBytes } from "../../shared";

/** Error text of a failed JSON.parse, without relying on engine-specific error classes. */
function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Reads the request body as JSON. Content-Type is not checked (Dkron's BindJSON does not either, and
 * `curl -d` sends form-urlencoded); a syntax error is a 400 BAD_REQUEST naming the body.
 */
export async function readJsonBody(
  c: Context,
  bodyText: (c: Context) => Promise<string> = (x) => x.req.text(),
): Promise<unknown> {
  const text = await bodyText(c);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AppError("BAD_REQUEST", `request body is not valid JSON: ${reason(e)}`, { field: "body" });
  }
}

/**
 * Reads the multipart field `file` of POST /v1/restore as a JSON array of jobs. Missing field → 400
 * (Dkron: 404); the array's jobs are validated by control, which knows the schema of the build it runs.
 */
export async function readRestoreFile(c: Context, maxBytes: number): Promise<unknown[]> {
  let form: Record<string, string | File | (string | File)[]>;
  // A form without a Content-Length (chunked) is read within the limit before the parser sees it.
  if (c.req.header("content-length") === undefined && c.req.raw.body) {
    const bytes = await readLimitedBytes(c.req.raw, maxBytes);
    c.req.raw = new Request(c.req.raw, { body: bytes });
  }
  try {
    form = await c.req.parseBody();
  } catch (e) {
    throw new AppError("BAD_REQUEST", `request body is not a valid multipart form: ${reason(e)}`, {
      field: "file",
    });
  }
  const part = form.file;
  const first = Array.isArray(part) ? part[0] : part;
  if (first === undefined) {
    throw new AppError("VALIDATION", "missing multipart form field 'file' (a JSON array of jobs)", {
      field: "file",
    });
  }
  const text = typeof first === "string" ? first : await first.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new AppError("BAD_REQUEST", `file is not valid JSON: ${reason(e)}`, { field: "file" });
  }
  if (!Array.isArray(parsed)) {
    throw new AppError("VALIDATION", "file must hold a JSON array of jobs", { field: "file" });
  }
  return parsed;
}
