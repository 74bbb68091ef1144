import fc from "fast-check";

// Header names and values an HTTP client can send: values are bytes 0x20-0xFF and tabs (no CR, LF
// or NUL, which no HTTP/1 parser lets through), so every value here is one a socket could carry.

const headerChar = fc
  .oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
    { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
    { weight: 1, arbitrary: fc.constant(0x09) },
  )
  .map((c) => String.fromCharCode(c));

/** A header value: short and odd, or long (up to 64 KiB), or one of a few telling ones. */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.array(headerChar, { maxLength: 16 }).map((cs) => cs.join("")),
  fc
    .record({ c: fc.constantFrom("a", "\xff", " ", ";", ","), n: fc.integer({ min: 1_000, max: 65_536 }) })
    .map(({ c, n }) => `x${c.repeat(n)}`),
  fc.constantFrom("", " ", "\t", "null", "undefined", "\xc3\xa9", "=?utf-8?b?w6k=?=", "*", "0"),
);

/** Content-Type values: right, almost right, wrong, and odd. */
export const contentType = fc.oneof(
  fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/json; charset=utf-16",
    "application/json; charset=latin1",
    "text/plain",
    "text/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "multipart/form-data; boundary=xyz",
    'multipart/form-data; boundary="a b"',
    "multipart/mixed; boundary=xyz",
    "application/octet-stream",
    "*/*",
    ";;;",
    "a/b/c",
  ),
  headerValue,
);

/** Content-Length values, against a body of `size` bytes: true, lying either way, or no number. */
export function contentLength(size: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      String(size),
      String(Math.max(0, size - 1)),
      String(size + 1),
      String(size * 2 + 100),
      "0",
      "-1",
      "abc",
      "1e3",
      " 5",
      "5, 5",
      "0x10",
      String(1024 * 1024),
      String(1024 * 1024 + 1),
      "99999999999999999999",
      "Infinity",
    ),
    headerValue,
  );
}

/** Other headers clients send, with names that mean something to this app or its middleware. */
export const otherHeader: fc.Arbitrary<[string, string]> = fc.tuple(
  fc.constantFrom(
    "origin",
    "access-control-request-method",
    "access-control-request-headers",
    "accept",
    "accept-encoding",
    "x-forwarded-for",
    "x-test-client",
    "cookie",
    "x-dkron-caller-token",
    "x-dkron-caller-client",
    "x-http-method-override",
    "transfer-encoding",
    "content-encoding",
    "expect",
    "x-whom",
    "if-none-match",
    "range",
  ),
  headerValue,
);
