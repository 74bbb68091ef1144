import type { Context, MiddlewareHandler } from "hono";
import { readLimitedBytes, tooLarge } from "../../shared";

/** The request body limit when the host names none: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Refuses a body whose Content-Length is over the limit before anything reads it. A body without a
 * length (chunked) is counted by the readers as they read (readBodyText, readRestoreFile), so no
 * route ever holds more than the limit.
 */
export function bodyLimit(maxBytes: number): MiddlewareHandler {
  return async (c, next) => {
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined) {
      const size = Number(length);
      if (size > maxBytes) throw tooLarge(maxBytes, size);
    }
    return next();
  };
}

/** The default body reader: the web Request's text, within the limit. */
export async function readBodyText(c: Context, maxBytes: number): Promise<string> {
  return new TextDecoder().decode(await readLimitedBytes(c.req.raw, maxBytes));
}
