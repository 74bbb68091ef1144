/** Minute-resolution check over all of 2026; the reference is described in schedule.test-reference.ts. */
import { describe, expect, it } from "vitest";
import {
  expressions,
  HOUR,
  implFires,
  iso,
  MINUTE,
  POLICIES,
  referenceFires,
  walk,
  zones,
} from "./schedule.test-reference";

describe("whole year 2026 at minute resolution", () => {
  const start = Date.parse("2026-01-01T00:00:00Z");
  const end = Date.parse("2027-01-01T00:00:00Z");
  const compareUntil = end - 2 * HOUR;
  const minuteExpressions = expressions.filter(([spec]) =>
    [
      "0 30 2 * * *",
      "0 45 1 * * *",
      "0 15 2 * * *",
      "0 30,59 1 * * *",
      "0 0 * * * *",
      "0 0 2 1,4,8,25,29 * 1",
      "30 2 * * *",
      "@daily",
      "@weekly",
    ].includes(spec),
  );

  it.each(zones)("$tz", ({ tz, hasDst }) => {
    const w = walk(tz, start, end, MINUTE);
    expect(w.skipped.size > 0).toBe(hasDst);
    for (const policy of POLICIES) {
      for (const [spec, naive] of minuteExpressions) {
        const expected = referenceFires(w, naive, policy).filter((t) => t <= compareUntil);
        const got = implFires(spec, tz, start, compareUntil, policy);
        expect(iso(got), `${spec} in ${tz}, dst=${policy}`).toEqual(iso(expected));
      }
    }
  });
});
