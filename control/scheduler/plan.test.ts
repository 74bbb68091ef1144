import { describe, expect, it } from "vitest";
import { type PlanJob, planJob } from "./plan";

const every =
  (ms: number, anchor = 0) =>
  (after: number) =>
    anchor + (Math.floor((after - anchor) / ms) + 1) * ms;
const job = (over: Partial<PlanJob> = {}): PlanJob => ({
  name: "j",
  next: every(1000),
  cursor: 0,
  startsAt: null,
  expiresAt: null,
  catchup: "latest",
  catchupDeadlineMs: 3_600_000,
  dstSkips: () => [],
  ...over,
});
const opts = { maxSlots: 10_000, maxListed: 5, stallMs: 60_000 };

describe("planJob", () => {
  it("runs the slot that is due and reports the next", () => {
    const p = planJob(job({ cursor: 1000 }), 2000, 2000 - 2000, opts);
    expect(p.slots).toEqual([{ at: 2000, action: "run" }]);
    expect(p.next).toBe(3000);
  });

  it("never plans a slot at or before the cursor", () => {
    expect(planJob(job({ cursor: 5000 }), 5000, 5000 - 2000, opts).slots).toEqual([]);
  });

  it("runs every slot due since the scheduler started, however late the timer (nothing lost)", () => {
    const p = planJob(job({ cursor: 1000 }), 3500, 1500, opts);
    expect(p.slots.map((s) => [s.at, s.action])).toEqual([
      [2000, "run"],
      [3000, "run"],
    ]);
  });

  it("latest: older missed slots are recorded, the newest runs once", () => {
    const p = planJob(job({ cursor: 0, next: every(10_000) }), 100_000 + 5000, 100_000 + 5000 - 1000, opts);
    const runs = p.slots.filter((s) => s.action !== "missed").map((s) => s.at);
    expect(runs).toEqual([100_000]);
    expect(p.slots.at(-1)).toEqual({ at: 100_000, action: "catchup" });
    expect(p.slots.filter((s) => s.action === "missed").length + p.unlisted).toBe(9);
    expect(p.slots.filter((s) => s.action === "missed").length).toBe(5);
  });

  it("latest: a slot beyond the deadline is recorded as missed, not run", () => {
    const p = planJob(job({ next: every(10_000), catchupDeadlineMs: 1000 }), 25_000, 25_000 - 1000, opts);
    expect(p.slots.every((s) => s.action === "missed")).toBe(true);
    expect(p.slots.map((s) => s.at)).toEqual([10_000, 20_000]);
  });

  it("latest: when a slot is on time the missed ones are only recorded", () => {
    const p = planJob(job({ next: every(1000) }), 10_000, 8000, opts);
    expect(p.slots.filter((s) => s.action !== "missed").map((s) => s.at)).toEqual([8000, 9000, 10_000]);
  });

  it("none records every missed slot; all runs them", () => {
    const none = planJob(
      job({ next: every(10_000), catchup: "none" }),
      30_000 + 5000,
      30_000 + 5000 - 1000,
      opts,
    );
    expect(none.slots.map((s) => s.action)).toEqual(["missed", "missed", "missed"]);
    const all = planJob(
      job({ next: every(10_000), catchup: "all" }),
      30_000 + 5000,
      30_000 + 5000 - 1000,
      opts,
    );
    expect(all.slots.map((s) => s.action)).toEqual(["catchup", "catchup", "catchup"]);
  });

  it('"all" runs only the missed slots within the starting deadline and records the older ones as missed', () => {
    // Leaderless for 10 minutes with a 2-minute deadline: 12 slots at 50 s intervals were missed.
    const now = 600_000 + 5000;
    const p = planJob(
      job({ next: every(50_000), catchup: "all", catchupDeadlineMs: 120_000 }),
      now,
      now - 1000,
      opts,
    );
    const run = p.slots.filter((s) => s.action === "catchup").map((s) => s.at);
    expect(run).toEqual([500_000, 550_000, 600_000]);
    for (const t of run) expect(now - t).toBeLessThanOrEqual(120_000);
    // Nothing dropped: the other 9 slots are listed as missed (5 here) or counted as unlisted.
    expect(p.slots.filter((s) => s.action === "missed").length + p.unlisted).toBe(9);
    expect(p.slots.map((s) => s.at)).toEqual([...p.slots.map((s) => s.at)].sort((a, b) => a - b));
  });

  it("a stall longer than stallMs (host suspended) follows the catch-up policy instead of a burst", () => {
    // The scheduler started at 0; the process then stalled for 8 hours.
    const p = planJob(job({ next: every(60_000), cursor: 0 }), 8 * 3_600_000 + 500, 0, opts);
    const ran = p.slots.filter((s) => s.action !== "missed");
    expect(ran).toEqual([{ at: 8 * 3_600_000, action: "run" }]);
    expect(p.slots.filter((s) => s.action === "missed").length + p.unlisted).toBe(479);
  });

  it("honours starts_at and expires_at", () => {
    const p = planJob(job({ startsAt: 5000, expiresAt: 7000 }), 9000, 9000 - 10_000, opts);
    expect(p.slots.map((s) => s.at)).toEqual([5000, 6000, 7000]);
    expect(p.next).toBeNull();
    expect(planJob(job({ startsAt: 50_000 }), 9000, 9000 - 2000, opts)).toEqual({
      slots: [],
      unlisted: 0,
      next: 50_000,
    });
  });

  it("records DST skips due by now, each before a slot at the same instant, and wakes for a later one", () => {
    const skipAt = (at: number) => (after: number, until: number) =>
      at > after && at <= until ? [{ at, note: "gap" }] : [];
    const p = planJob(job({ cursor: 1000, dstSkips: skipAt(3000) }), 3000, 1000, opts);
    expect(p.slots).toEqual([
      { at: 2000, action: "run" },
      { at: 3000, action: "skipped-dst", note: "gap" },
      { at: 3000, action: "run" },
    ]);
    // A skip between now and the next slot sets the wake-up, so it is recorded when it happens.
    const later = planJob(
      job({ cursor: 1000, next: every(10_000), dstSkips: skipAt(5000) }),
      2000,
      1000,
      opts,
    );
    expect(later).toEqual({ slots: [], unlisted: 0, next: 5000 });
    // A recorded skip leaves the cursor 1 ms before it: it is not planned again.
    expect(planJob(job({ cursor: 2999, dstSkips: skipAt(3000) }), 3000, 1000, opts).slots).toEqual([
      { at: 3000, action: "run" },
    ]);
  });

  it("does not record DST skips outside starts_at..expires_at", () => {
    const skips = () => [{ at: 3000, note: "gap" }];
    const p = planJob(job({ cursor: 1000, startsAt: 4000, dstSkips: skips }), 5000, 1000, opts);
    expect(p.slots.map((s) => s.action)).toEqual(["run", "run"]);
  });
});
