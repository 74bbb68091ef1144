import fc from "fast-check";
import { nastyString, protoKey } from "./gen-jobs";
import { BASE_JOBS } from "./world";

// Query strings as raw text: known parameters with good and bad values, junk keys, repeats,
// metadata[k]=v filters with odd keys, and every way of (mis)encoding them.

const count = fc.constantFrom(
  "0",
  "1",
  "2",
  "3",
  "10",
  "01",
  "-1",
  "1e3",
  " 1",
  "1 ",
  "0x1",
  "1.5",
  "",
  "99999999999999999999",
  "9007199254740993",
  "NaN",
  "Infinity",
);

const sortField = fc.constantFrom(
  "id",
  "name",
  "displayname",
  "schedule",
  "success_count",
  "error_count",
  "skipped_count",
  "last_success",
  "last_error",
  "next",
  "started_at",
  "finished_at",
  "attempt",
  "scheduled_at",
  "color",
  "__proto__",
  "constructor",
  "",
);

const flagValue = fc.constantFrom("", "true", "false", "1", "0", "yes", "TRUE");

const metadataKey = fc.oneof(fc.constantFrom("team", "tier", "missing", ""), protoKey, nastyString);

/** One key=value pair of a job or execution listing, as (key, value) before encoding. */
const listPair: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(fc.constantFrom("_start", "_end", "output_size_limit", "next", "n"), count),
  fc.tuple(fc.constant("_sort"), sortField),
  fc.tuple(fc.constant("_order"), fc.constantFrom("ASC", "DESC", "desc", "asc", "x", "")),
  fc.tuple(fc.constant("q"), fc.oneof(fc.constantFrom("base", "fz", "shell", "-", ""), nastyString)),
  fc.tuple(
    fc.constant("status"),
    fc.constantFrom("success", "failed", "partially_failed", "untriggered", "running", "", "SUCCESS"),
  ),
  fc.tuple(fc.constantFrom("disabled", "stale", "pretty", "runoncreate"), flagValue),
  fc.tuple(
    metadataKey.map((k) => `metadata[${k}]`),
    fc.constantFrom("a", "b", "1", "", "c", "x"),
  ),
  fc.tuple(
    fc.constantFrom("metadata", "metadata[]", "metadata[a][b]", "metadata[team", "metadatax"),
    fc.constantFrom("a", ""),
  ),
  fc.tuple(fc.oneof(nastyString, protoKey), nastyString),
  // GET /v1/audit's own.
  fc.tuple(
    fc.constantFrom("job", "target", "token", "action"),
    fc.constantFrom("base-shell", "jobs.put", "adm0000000000001", "", "x"),
  ),
  fc.tuple(
    fc.constantFrom("since", "until"),
    fc.constantFrom(
      "2026-01-01T00:00:00Z",
      "2025-12-31T23:00:00+01:00",
      "2026-01-01",
      "0",
      "now",
      "",
      "+275760-09-13T00:00:00Z",
    ),
  ),
);

/** How a pair is written into the query string. */
const encoding = fc.constantFrom("encoded", "encoded", "raw", "bad-percent", "brackets-encoded", "no-value");

/** encodeURIComponent, with a lone surrogate written as the bytes of one (which are no UTF-8). */
export function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return [...s].map((c) => (/[\ud800-\udfff]/.test(c) ? "%ED%A0%80" : encodeURIComponent(c))).join("");
  }
}

function encodePair([k, v]: [string, string], how: string, junk: string): string {
  switch (how) {
    case "raw":
      return `${k}=${v}`;
    case "bad-percent":
      return `${enc(k)}${junk}=${enc(v)}${junk}`;
    case "brackets-encoded":
      return `${enc(k)}=${enc(v)}`.replace(/%5B/g, "[").replace(/%5D/g, "]");
    case "no-value":
      return enc(k);
    default:
      return `${enc(k)}=${enc(v)}`;
  }
}

const badPercent = fc.constantFrom(
  "%",
  "%z",
  "%zz",
  "%E0%A4",
  "%00",
  "%ff",
  "%25",
  "%%",
  "%C0%AF",
  "%ED%A0%80",
);

/** A query string ("" or "?…") of 0 to 6 pairs, some repeated, each encoded its own way. */
export const listQuery: fc.Arbitrary<string> = fc
  .array(fc.tuple(listPair, encoding, badPercent, fc.boolean()), { maxLength: 6 })
  .map((pairs) => {
    const parts: string[] = [];
    for (const [pair, how, junk, twice] of pairs) {
      parts.push(encodePair(pair, how, junk));
      if (twice) parts.push(encodePair([pair[0], "1"], "encoded", junk));
    }
    return parts.length ? `?${parts.join("&")}` : "";
  });

/** A job name in a path: stored ones, missing ones, odd ones, percent-encoded or raw. */
export const jobSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...BASE_JOBS),
  fc.constantFrom(
    "ghost",
    "BASE-SHELL",
    "base-shell%2Fexecutions",
    "%2e%2e",
    "..",
    "base%2Dshell",
    "%ff",
    "%",
  ),
  nastyString.map(enc),
);

/** Mostly a good value, now and then a bad one. */
const mostly = (good: string[], bad: string[]) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...good) },
    { weight: 1, arbitrary: fc.constantFrom(...bad) },
  );

/** A query for GET /v1/schedule/preview: schedule, timezone, dst, n, from, name, good and bad. */
export const previewQuery: fc.Arbitrary<string> = fc
  .record(
    {
      schedule: fc.oneof(
        {
          weight: 6,
          arbitrary: mostly(
            [
              "0 30 9 * * *",
              "0 0 2 * * *",
              "*/15 * 1-3 * * *",
              "@every 1m",
              "@every 90m",
              "@hourly",
              "@at 2026-03-29T02:30:00+02:00",
              "@manually",
              "0 0 0 29 2 *",
              "* * * * * *",
              "TZ=Europe/Berlin 0 30 2 * * *",
            ],
            [
              "",
              "garbage",
              "@every 0s",
              "0 0 0 30 2 *",
              "@at 275760-09-13T00:00:00Z",
              "@at +275760-09-13T00:00:00Z",
            ],
          ),
        },
        { weight: 1, arbitrary: nastyString },
      ),
      timezone: mostly(
        ["", "UTC", "Europe/Berlin", "America/Sao_Paulo", "Australia/Lord_Howe", "Etc/GMT-14"],
        ["Mars/Olympus", "Local", "europe/berlin"],
      ),
      dst: mostly(["auto", "once", "twice,skip", "transition", ""], ["bad", "once,twice"]),
      n: mostly(["1", "5", "25", "100"], ["0", "-1", "1e3", "", "99999999999999999999", "1000", "101"]),
      from: mostly(
        [
          "2026-03-29T00:00:00+01:00",
          "2026-10-25T00:00:00Z",
          "1970-01-01T00:00:00Z",
          "9999-12-31T23:59:59Z",
          "2026-01-01T00:00:00.123456789Z",
        ],
        [
          "2026-10-25",
          "0000-01-01T00:00:00Z",
          "+275760-09-13T00:00:00Z",
          "275760-09-13T00:00:00Z",
          "-000001-01-01T00:00:00Z",
          "2026-02-30T00:00:00Z",
          "2026-01-01T24:00:00Z",
          "2026-01-01T00:00:60Z",
          "2026-01-01T00:00:00+24:00",
          "now",
          "",
        ],
      ),
      name: fc.constantFrom("x", "", "Bad Name"),
    },
    { requiredKeys: ["schedule"] },
  )
  .chain((q) =>
    fc
      .tuple(
        fc.constant(q),
        fc.constantFrom("encoded", "encoded", "encoded", "raw", "bad-percent"),
        badPercent,
      )
      .map(
        ([q, how, junk]) =>
          `?${Object.entries(q)
            .map(([k, v]) => encodePair([k, v], how, junk))
            .join("&")}`,
      ),
  );
