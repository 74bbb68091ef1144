import { describe, expect, it } from "vitest";
import { T0 } from "../test/helpers/builders";
import { FakeClock } from "../test/helpers/fake-clock";
import { followLeadership } from "./leadership";

/** followLeadership over recording parts: one runner registry, a scheduler that notes when it starts. */
function setup(connected: number) {
  const clock = new FakeClock(T0);
  const log: string[] = [];
  let leadership: (leader: boolean) => void = () => {};
  const added = new Set<() => void>();
  let candidates = connected;
  let running = false;
  followLeadership({
    consensus: {
      onLeadership: (l) => {
        leadership = l;
        return () => {};
      },
    },
    dispatcher: { startLeading: () => log.push("dispatch"), stopLeading: () => log.push("undispatch") },
    scheduler: {
      start: () => {
        running = true;
        log.push(`schedule at +${clock.now() - T0}`);
      },
      stop: () => {
        running = false;
        log.push("unschedule");
      },
      isRunning: () => running,
    },
    hub: { disconnectAll: () => log.push("disconnect") },
    runners: {
      candidates: () => Array.from({ length: candidates }, (_, i) => ({ name: `r${i}`, tags: {} })),
      onAdded: (l) => {
        added.add(l);
        return () => added.delete(l);
      },
    },
    clock,
    runnerSettleMs: 5000,
  });
  const connect = () => {
    candidates++;
    for (const l of [...added]) l();
  };
  return { clock, log, lead: (l: boolean) => leadership(l), connect, listeners: () => added.size };
}

describe("followLeadership", () => {
  it("starts dispatching at once and scheduling at once when a runner is connected", () => {
    const s = setup(1);
    s.lead(true);
    expect(s.log).toEqual(["dispatch", "schedule at +0"]);
  });

  it("waits for the first runner to connect before scheduling", () => {
    const s = setup(0);
    s.lead(true);
    s.clock.advance(1200);
    expect(s.log).toEqual(["dispatch"]);
    s.connect();
    s.connect();
    s.clock.advance(10_000);
    expect(s.log).toEqual(["dispatch", "schedule at +1200"]);
    expect(s.listeners()).toBe(0);
  });

  it("schedules at the settle deadline when no runner comes back", () => {
    const s = setup(0);
    s.lead(true);
    s.clock.advance(4999);
    expect(s.log).toEqual(["dispatch"]);
    s.clock.advance(1);
    expect(s.log).toEqual(["dispatch", "schedule at +5000"]);
  });

  it("stops everything at once on losing leadership, and a pending wait with it", () => {
    const s = setup(0);
    s.lead(true);
    s.lead(false);
    s.clock.advance(10_000);
    s.connect();
    expect(s.log).toEqual(["dispatch", "unschedule", "undispatch", "disconnect"]);
    expect(s.listeners()).toBe(0);
  });
});
