/** Second-resolution windows around both 2026 transitions; the reference is described in schedule.test-reference.ts. */
import { beforeAll, describe, expect, it } from "vitest";
import { parseSchedule } from "./schedule";
import {
  expressions,
  firstAfter,
  HOUR,
  implFires,
  iso,
  MINUTE,
  POLICIES,
  referenceFires,
  referenceSkips,
  SECOND,
  type Walk,
  walk,
  zones,
} from "./schedule.test-reference";

describe.each(zones)("$tz against the second-by-second reference", ({ tz, transitions, hasDst }) => {
  describe.each(transitions)("around %s", (transitionIso) => {
    const transition = Date.parse(transitionIso);
    const start = transition - 26 * HOUR;
    const end = transition + 26 * HOUR;
    // Fires in the last few hours could depend on instants past the window; compare up to a margin.
    const compareUntil = end - 2 * HOUR;
    let w: Walk;
    beforeAll(() => {
      w = walk(tz, start, end, SECOND);
    });

    it("the window really contains a transition (or, for Kolkata, none)", () => {
      const offsetChanged = w.walls[0]! - start !== w.walls[w.walls.length - 1]! - end;
      expect(offsetChanged).toBe(hasDst);
    });

    it.each(POLICIES)("dst=%s: every fire of every expression in a 52-hour window", (policy) => {
      for (const [spec, naive] of expressions) {
        const expected = referenceFires(w, naive, policy).filter((t) => t <= compareUntil);
        expect(expected.length).toBeGreaterThan(0);
        expect(iso(implFires(spec, tz, start, compareUntil, policy)), spec).toEqual(iso(expected));
      }
    });

    it.each(POLICIES)("dst=%s: the wall times not run are the ledger's skips", (policy) => {
      for (const [spec, naive] of expressions) {
        const s = parseSchedule(spec, { jobName: "dst", timezone: tz, dst: policy });
        const got = s.dstSkips(start, compareUntil).map((k) => [k.at, k.count]);
        expect(got, spec).toEqual(referenceSkips(w, naive, policy).filter(([at]) => at <= compareUntil));
      }
    });

    it.each(POLICIES)("dst=%s: next() from arbitrary instants near the transition", (policy) => {
      // Every 37 s through three hours around the transition, plus sub-second offsets either side of it.
      const probes: number[] = [];
      for (let t = transition - 90 * MINUTE; t < transition + 90 * MINUTE; t += 37 * SECOND) probes.push(t);
      for (const d of [-1001, -1000, -999, -1, 0, 1, 999, 1000]) probes.push(transition + d);
      for (const [spec, naive] of expressions) {
        const expected = referenceFires(w, naive, policy);
        const s = parseSchedule(spec, { jobName: "dst", timezone: tz, dst: policy });
        for (const p of probes) {
          const want = firstAfter(expected, p);
          if (want === undefined || want > compareUntil) continue;
          const got = s.next(p);
          if (got !== want) {
            expect(got === null ? null : iso([got])[0], `${spec}: next(${iso([p])[0]})`).toBe(iso([want])[0]);
          }
        }
      }
    });

    it.each(POLICIES)("dst=%s, * * * * * *: every second for two hours around the transition", (policy) => {
      const from = transition - HOUR;
      const to = transition + HOUR;
      const expected = referenceFires(w, "* * * * * *", policy).filter((t) => t > from && t <= to);
      const got = implFires("* * * * * *", tz, from, to, policy);
      expect(got.length).toBe(expected.length);
      expect(iso(got)).toEqual(iso(expected));
    });
  });
});
