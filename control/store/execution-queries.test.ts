import { describe, expect, it } from "vitest";
import { openStateDb } from "./db";
import { isExecutionSort, listExecutions } from "./execution-queries";

describe("execution sort fields", () => {
  it("are the sortable columns and id, never a key every object has (fuzz finding: _sort=constructor was a 500)", () => {
    for (const f of ["id", "started_at", "finished_at", "attempt", "scheduled_at"])
      expect(isExecutionSort(f)).toBe(true);
    for (const f of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "color", ""])
      expect(isExecutionSort(f)).toBe(false);
    const s = openStateDb(":memory:");
    try {
      expect(listExecutions(s, "job", "constructor")).toEqual([]);
    } finally {
      s.close();
    }
  });
});
