import { describe, expect, it } from "vitest";
import { AppError, isAppError } from "../../shared/errors";
import { parseExecutionListQuery, parseJobListQuery, parseMetadataFilter, renameQueryField } from "./query";

const qs = (s: string) => new URLSearchParams(s);

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (isAppError(e)) return e.details?.field;
    throw e;
  }
  return undefined;
}

describe("query parsing", () => {
  it("leaves absent parameters to the contract's defaults", () => {
    expect(parseJobListQuery(qs(""))).toEqual({});
    expect(parseExecutionListQuery(qs(""), "a")).toEqual({ job: "a" });
  });

  it("reads metadata keys with brackets, spaces and dots in them", () => {
    expect(parseMetadataFilter(qs("metadata[cost center]=42&metadata[a.b]=c&metadataX=1"))).toEqual({
      "cost center": "42",
      "a.b": "c",
    });
    expect(parseMetadataFilter(qs("q=x"))).toBeUndefined();
  });

  it("keeps filters on keys every object has, and refuses __proto__ rather than drop it (fuzz finding)", () => {
    expect(
      parseMetadataFilter(qs("metadata[constructor]=a&metadata[toString]=b&metadata[constructor]=c")),
    ).toEqual({ constructor: "a", toString: "b" });
    expect(fieldOf(() => parseMetadataFilter(qs("metadata[__proto__]=a")))).toBe("metadata[__proto__]");
  });

  it("takes the first value of a repeated parameter, an empty one meaning absent (fuzz finding)", () => {
    // gin's c.Query: `status=&status=failed` asks for no status filter, not for failed jobs.
    expect(parseJobListQuery(qs("status&status=1&q=&q=x&_order=&_order=DESC"))).toEqual({});
    expect(parseJobListQuery(qs("status=failed&status="))).toEqual({ status: "failed" });
  });

  it("keeps _start=0 and _end=0 (an empty page is a valid request)", () => {
    expect(parseJobListQuery(qs("_start=0&_end=0"))).toEqual({ start: 0, end: 0 });
  });

  it("names the parameter of the first bad value", () => {
    expect(fieldOf(() => parseJobListQuery(qs("_start=1e3")))).toBe("_start");
    expect(fieldOf(() => parseJobListQuery(qs("_end=")))).toBe("_end");
    expect(fieldOf(() => parseExecutionListQuery(qs("output_size_limit=1.0"), "a"))).toBe(
      "output_size_limit",
    );
  });

  it("renames contract fields in control's validation errors, and only those", () => {
    const renamed = renameQueryField(new AppError("VALIDATION", "bad", { field: "end" }));
    expect((renamed as AppError).details?.field).toBe("_end");
    const other = new AppError("VALIDATION", "bad", { field: "metadata" });
    expect(renameQueryField(other)).toBe(other);
    const notFound = new AppError("NOT_FOUND", "x", { field: "sort" });
    expect(renameQueryField(notFound)).toBe(notFound);
  });
});
