/**
 * A randomized sweep over every IANA zone with a transition in 2026: random expressions under random
 * DST policies, checked at minute resolution against the reference (schedule.test-reference.ts) in a
 * 60-hour window around each transition. Replay a failure with DST_SWEEP_SEED=<seed printed>.
 */
import { describe, expect, it } from "vitest";
import { parseSchedule } from "./schedule";
import {
  ALL_POLICIES,
  HOUR,
  implFires,
  iso,
  MINUTE,
  referenceFires,
  referenceSkips,
  rng,
  walk,
} from "./schedule.test-reference";
import { loadTimeZone, transitionsIn } from "./timezone";

const SEED = Number(process.env.DST_SWEEP_SEED ?? 20261025);
const YEAR_START = Date.parse("2026-01-01T00:00:00Z");
const YEAR_END = Date.parse("2027-01-01T00:00:00Z");

/** A random minute or hour field the naive matcher reads too: `*`, a step, a value, a range or a list. */
function field(r: () => number, max: number): string {
  const int = (a: number, b: number) => a + Math.floor(r() * (b - a + 1));
  const x = r();
  if (x < 0.25) return "*";
  if (x < 0.45) return `*/${int(2, Math.min(30, max))}`;
  if (x < 0.65) return String(int(0, max));
  if (x < 0.8) {
    const a = int(0, max);
    return `${a}-${int(a, max)}`;
  }
  return [...new Set([int(0, max), int(0, max), int(0, max)])].sort((a, b) => a - b).join(",");
}

const allZones = Intl.supportedValuesOf("timeZone");
const withTransitions = allZones
  .map((tz) => ({ tz, transitions: transitionsIn(loadTimeZone(tz), YEAR_START, YEAR_END) }))
  .filter((z) => z.transitions.length > 0);

describe(`every zone with a 2026 transition, random expressions and policies (seed ${SEED})`, () => {
  it("finds the transitions of every zone whose January and July offsets differ", () => {
    const differ = allZones.filter((tz) => {
      const z = loadTimeZone(tz);
      return (
        z.offsetAt(Date.parse("2026-01-15T00:00:00Z")) !== z.offsetAt(Date.parse("2026-07-15T00:00:00Z"))
      );
    });
    // Dozens of zones keep DST; each of them has at least two transitions in the year.
    expect(differ.length).toBeGreaterThan(50);
    const found = new Map(withTransitions.map((z) => [z.tz, z.transitions.length]));
    for (const tz of differ) expect(found.get(tz) ?? 0, tz).toBeGreaterThanOrEqual(2);
  });

  it("agrees with the reference on every fire and every skipped wall time", () => {
    const r = rng(SEED);
    let checked = 0;
    for (const { tz, transitions } of withTransitions) {
      for (const t of transitions) {
        const start = Math.floor((t.at - 30 * HOUR) / MINUTE) * MINUTE;
        const end = start + 60 * HOUR;
        const compareUntil = end - 4 * HOUR;
        const w = walk(tz, start, end, MINUTE);
        // The window really holds the transition the implementation found.
        expect(w.walls[0]! - start, `${tz} at ${iso([t.at])[0]}`).not.toBe(
          w.walls[w.walls.length - 1]! - end,
        );
        for (let k = 0; k < 3; k++) {
          const naive = `0 ${field(r, 59)} ${field(r, 23)} * * *`;
          const policy = ALL_POLICIES[Math.floor(r() * ALL_POLICIES.length)]!;
          const where = `${naive} in ${tz} near ${iso([t.at])[0]}, dst=${policy} (seed ${SEED})`;
          const expected = referenceFires(w, naive, policy).filter((x) => x <= compareUntil);
          expect(iso(implFires(naive, tz, start, compareUntil, policy)), where).toEqual(iso(expected));
          const skips = parseSchedule(naive, { jobName: "sweep", timezone: tz, dst: policy })
            .dstSkips(start, compareUntil)
            .map((s) => [s.at, s.count]);
          expect(skips, where).toEqual(referenceSkips(w, naive, policy).filter(([at]) => at <= compareUntil));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(300);
  });
});
