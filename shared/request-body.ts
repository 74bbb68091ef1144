import { AppError } from "./errors";

// Request bodies within a size limit, for every host (web streams run in Node and workerd alike).

/** The 413 a body over the limit gets, naming the limit and how to raise it. */
export function tooLarge(maxBytes: number, size?: number): AppError {
  const what =
    size === undefined ? "the request body is larger than" : `the request body is ${size} bytes; over`;
  return new AppError("TOO_LARGE", `${what} the limit of ${maxBytes} bytes (--max-body-size)`, {
    field: "body",
    limit: maxBytes,
  });
}

/** Reads a web Request's body as bytes, stopping with a 413 once it passes `maxBytes`. */
export async function readLimitedBytes(request: Request, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
