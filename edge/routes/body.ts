import type { Context } from "hono";
import { AppError, readLimitedBytes } from "../../shared";

/** Error text of a failed JSON.parse, without relying on engine-specific error classes. */
function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * How deeply a request body may nest arrays and objects. A job is three levels deep (the job, its
 * processors, a processor's config) and a backup four; anything deeper is refused before parsing,
 * because forwarding it (a Worker sends the body on to control as JSON) would overflow the stack
 * of JSON.stringify, which recurses, into a 500.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether JSON text nests arrays and objects more than `max` levels deep (strings skipped). */
function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash: skip the character it escapes
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** JSON.parse within MAX_JSON_DEPTH; `what` names the body in the BAD_REQUEST thrown otherwise. */
function parseJson(text: string, what: string, field: string): unknown {
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new AppError(
      "BAD_REQUEST",
      `${what} nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep (a job needs 3)`,
      { field },
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AppError("BAD_REQUEST", `${what} is not valid JSON: ${reason(e)}`, { field });
  }
}

/**
 * Reads the request body as JSON. Content-Type is not checked (Dkron's BindJSON does not either, and
 * `curl -d` sends form-urlencoded); a syntax error or nesting past MAX_JSON_DEPTH is a 400 BAD_REQUEST
 * naming the body.
 */
export async function readJsonBody(
  c: Context,
  bodyText: (c: Context) => Promise<string> = (x) => x.req.text(),
): Promise<unknown> {
  return parseJson(await bodyText(c), "request body", "body");
}

/**
 * Reads the multipart field `file` of POST /v1/restore as a JSON array of jobs. Missing field → 400
 * (Dkron: 404); the array's jobs are validated by control, which knows the schema of the build it runs.
 */
export async function readRestoreFile(c: Context, maxBytes: number): Promise<unknown[]> {
  let form: Record<string, string | File | (string | File)[]>;
  // The form is read within the limit before the parser sees it, whatever Content-Length says: a
  // chunked body has none, and one that lies (empty, 0, no number) got a larger body past bodyLimit.
  if (c.req.raw.body) {
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
  const parsed = parseJson(text, "file", "file");
  if (!Array.isArray(parsed)) {
    throw new AppError("VALIDATION", "file must hold a JSON array of jobs", { field: "file" });
  }
  return parsed;
}
