import { describe, expect, it } from "vitest";
import {
  pushPullIntervalMs,
  remainingSuspicionMs,
  resolveGossipConfig,
  retransmitLimit,
  suspicionConfirmations,
  suspicionMaxMs,
  suspicionMinMs,
} from "./config";
import { Membership, type Step } from "./membership";
import { decodePacket, encodePacket, type MemberMeta, type Packet, packetBytes } from "./messages";
import { seededRandom } from "./random";

const meta = (tags: Record<string, string> = {}): MemberMeta => ({ role: "runner", version: "0.1.0", tags });
const make = (name: string, now = 0, m: MemberMeta = meta()) =>
  new Membership({ name, addr: name, port: 7946, meta: m, random: seededRandom(name.length), now });
const to = (name: string) => `${name}:7946`;
const packetsTo = (s: Step, name: string): Packet[] =>
  s.send.filter((o) => o.to === to(name)).map((o) => o.packet);

describe("gossip timings: memberlist's formulas with its defaults", () => {
  const c = resolveGossipConfig();
  it.each([
    [1, 4_000, 24_000, 0],
    [10, 4_000, 24_000, 2],
    [100, 8_000, 48_000, 2],
    [1000, 12_000, 72_000, 2],
  ])("n=%i: suspicion min %i ms, max %i ms, k=%i confirmations", (n, min, max, k) => {
    expect(suspicionMinMs(c, n)).toBe(min);
    expect(suspicionMaxMs(c, n)).toBe(max);
    expect(suspicionConfirmations(c, n)).toBe(k);
  });
  it("the timeout decays from max to min as confirmations arrive (suspicion.go)", () => {
    expect(remainingSuspicionMs(0, 2, 0, 8_000, 48_000)).toBe(48_000);
    expect(remainingSuspicionMs(1, 2, 0, 8_000, 48_000)).toBe(
      Math.floor(48_000 - (Math.log(2) / Math.log(3)) * 40_000),
    );
    expect(remainingSuspicionMs(2, 2, 0, 8_000, 48_000)).toBe(8_000);
    expect(remainingSuspicionMs(2, 2, 3_000, 8_000, 48_000)).toBe(5_000);
  });
  it("retransmits = 4 × ceil(log10(n+1)); push-pull slows past 32 members", () => {
    expect([1, 9, 10, 99, 100, 1000].map((n) => retransmitLimit(c, n))).toEqual([4, 4, 8, 8, 12, 16]);
    expect([32, 33, 64, 100, 1000].map((n) => pushPullIntervalMs(c, n))).toEqual([
      30_000, 60_000, 60_000, 90_000, 180_000,
    ]);
  });
  it("rejects a probe timeout at or above the probe interval", () => {
    expect(() => resolveGossipConfig({ probeInterval: "1s", probeTimeout: 1000 })).toThrow(/probeTimeout/);
    expect(resolveGossipConfig({ probeInterval: "2s" }).probeInterval).toBe(2000);
  });
});

describe("gossip core transitions", () => {
  /** a and b joined: a learns b through a push-pull exchange, and b learns a. */
  function pair() {
    const a = make("a");
    const b = make("b");
    const join = a.joinVia([to("b")], 0);
    const reply = b.receive(to("a"), packetsTo(join, "b")[0] as Packet, 1);
    a.receive(to("b"), packetsTo(reply, "a")[0] as Packet, 2);
    return { a, b };
  }

  it("join is a push-pull: both sides learn each other, and the join stops retrying", () => {
    const { a, b } = pair();
    expect(a.members().map((m) => `${m.name}:${m.status}`)).toEqual(["a:alive", "b:alive"]);
    expect(b.members().map((m) => `${m.name}:${m.status}`)).toEqual(["a:alive", "b:alive"]);
    expect(a.joining).toBe(false);
  });

  /** Ticks a from `now` through its deadlines until it pings b; the ping and the time. */
  function nextPing(a: Membership, now: number) {
    for (let i = 0; i < 1000; i++) {
      const ping = packetsTo(a.tick(now), "b")
        .flat()
        .find((m) => m.t === "ping");
      if (ping) return { ping, now };
      now = a.nextDeadline();
    }
    throw new Error("no ping to b");
  }

  it("a probe is a ping answered by an ack; a missed ack brings suspicion and a worse health score", () => {
    const { a, b } = pair();
    const first = nextPing(a, 3);
    expect(first.ping).toMatchObject({ t: "ping", node: "b", from: "a" });
    const ack = packetsTo(b.receive(to("a"), [first.ping], first.now + 1), "a").flat();
    expect(ack.map((m) => m.t)).toContain("ack");
    a.receive(to("b"), ack, first.now + 2);
    expect(a.healthScore).toBe(0);
    // The next probes go unanswered: with no third member to ask, a suspects b at the first deadline,
    // and Lifeguard (health score 1) doubles the interval before the probe after next.
    const c = resolveGossipConfig();
    const second = nextPing(a, first.now + 3);
    const pings: number[] = [];
    const events: string[] = [];
    for (let now = second.now; now < second.now + 3.5 * c.probeInterval; now = a.nextDeadline()) {
      const s = a.tick(now);
      if (packetsTo(s, "b").some((p) => p.some((m) => m.t === "ping"))) pings.push(now - second.now);
      events.push(...s.events.map((e) => `${e.type}:${e.member.name}`));
    }
    expect(events).toContain("suspect:b");
    expect(a.member("b")?.status).toBe("suspect");
    expect(a.healthScore).toBe(2);
    // (The tick at second.now, which sent the second ping, ran inside nextPing.)
    expect(pings).toEqual([c.probeInterval, 3 * c.probeInterval]);
  });

  it("a member that hears itself suspected or declared dead refutes with a higher incarnation", () => {
    const { b } = pair();
    const before = b.incarnation;
    b.receive(to("a"), [{ t: "suspect", node: "b", inc: before, from: "a" }], 10);
    expect(b.incarnation).toBe(before + 1);
    b.receive(to("a"), [{ t: "dead", node: "b", inc: before + 5, from: "a" }], 11);
    expect(b.incarnation).toBe(before + 6);
    expect(b.member("b")?.status).toBe("alive");
    // An older accusation changes nothing.
    b.receive(to("a"), [{ t: "suspect", node: "b", inc: before, from: "a" }], 12);
    expect(b.incarnation).toBe(before + 6);
  });

  it("suspicion: older news is ignored, a newer alive clears it, dead from oneself is a leave", () => {
    const { a } = pair();
    const inc = a.member("b")!.incarnation;
    a.receive(to("x"), [{ t: "suspect", node: "b", inc, from: "x" }], 10);
    expect(a.member("b")?.status).toBe("suspect");
    a.receive(to("b"), [{ t: "alive", node: "b", inc, addr: "b", port: 7946, meta: meta() }], 11);
    expect(a.member("b")?.status).toBe("suspect");
    const s = a.receive(
      to("b"),
      [{ t: "alive", node: "b", inc: inc + 1, addr: "b", port: 7946, meta: meta() }],
      12,
    );
    expect(s.events.map((e) => e.type)).toEqual(["alive"]);
    const l = a.receive(to("b"), [{ t: "dead", node: "b", inc: inc + 1, from: "b" }], 13);
    expect(l.events.map((e) => `${e.type}:${e.member.status}`)).toEqual(["left:left"]);
    // A member that missed the leave and passes on a suspicion of b is told b left.
    const told = a.receive(to("c"), [{ t: "suspect", node: "b", inc: inc + 1, from: "d" }], 14);
    expect(packetsTo(told, "c").flat()).toContainEqual({ t: "dead", node: "b", inc: inc + 1, from: "b" });
    expect(a.member("b")?.status).toBe("left");
  });

  it("a suspicion with no confirmations times out at max; a tag change is a new incarnation", () => {
    const a = make("a");
    for (const n of ["b", "c", "d", "e"])
      a.receive(to(n), [{ t: "alive", node: n, inc: 1, addr: n, port: 7946, meta: meta() }], 0);
    a.receive(to("c"), [{ t: "suspect", node: "b", inc: 1, from: "c" }], 100);
    const c = resolveGossipConfig();
    const max = suspicionMaxMs(c, 5);
    expect(a.tick(100 + max - 1).events.some((e) => e.type === "failed")).toBe(false);
    expect(a.tick(100 + max).events.map((e) => `${e.type}:${e.member.name}`)).toContain("failed:b");
    const inc = a.incarnation;
    const u = a.setMeta(meta({ zone: "b" }), 200_000);
    expect(u.events.map((e) => e.type)).toEqual(["update"]);
    expect(a.incarnation).toBe(inc + 1);
  });

  it("two independent confirmations bring the timeout down to min", () => {
    const a = make("a");
    for (const n of ["b", "c", "d", "e"])
      a.receive(to(n), [{ t: "alive", node: n, inc: 1, addr: n, port: 7946, meta: meta() }], 0);
    a.receive(to("c"), [{ t: "suspect", node: "b", inc: 1, from: "c" }], 0);
    a.receive(to("d"), [{ t: "suspect", node: "b", inc: 1, from: "d" }], 0);
    a.receive(to("d"), [{ t: "suspect", node: "b", inc: 1, from: "d" }], 0);
    a.receive(to("e"), [{ t: "suspect", node: "b", inc: 1, from: "e" }], 0);
    const min = suspicionMinMs(resolveGossipConfig(), 5);
    expect(a.tick(min - 1).events).toEqual([]);
    expect(a.tick(min).events.map((e) => e.type)).toEqual(["failed"]);
  });

  it("every packet fits the budget: a full-state sync of big members is split into chunks", () => {
    const big = (i: number) => meta({ zone: "z".repeat(200), rack: `r${i}`, pool: "p".repeat(150) });
    const a = make("a", 0, big(0));
    for (let i = 0; i < 60; i++)
      a.receive(
        to(`m${i}`),
        [{ t: "alive", node: `m${i}`, inc: 1, addr: `m${i}`, port: 7946, meta: big(i) }],
        0,
      );
    const s = a.joinVia([to("seed")], 1);
    const chunks = packetsTo(s, "seed");
    expect(chunks.length).toBeGreaterThan(10);
    for (const p of chunks) {
      expect(packetBytes(p)).toBeLessThanOrEqual(1400);
      expect(encodePacket(p).length).toBe(packetBytes(p));
    }
    expect(
      chunks.flatMap((p) => p.flatMap((m) => (m.t === "pp" ? m.s.map((x) => x.node) : []))),
    ).toHaveLength(61);
    // Gossip rounds stay within the budget too, with 60 queued broadcasts of that size.
    for (let t = 0; t < 5_000; t += 200)
      for (const o of a.tick(t).send) expect(packetBytes(o.packet)).toBeLessThanOrEqual(1400);
  });

  it("the wire format drops unknown or malformed messages and keeps the rest", () => {
    const bytes = new TextEncoder().encode(
      JSON.stringify({
        v: 1,
        m: [
          { t: "ack", seq: 1 },
          { t: "future", x: 1 },
          { t: "ping", seq: -1 },
          { t: "nack", seq: 2 },
        ],
      }),
    );
    expect(decodePacket(bytes)).toEqual({
      packet: [
        { t: "ack", seq: 1 },
        { t: "nack", seq: 2 },
      ],
      dropped: 2,
    });
    expect(decodePacket(new TextEncoder().encode('{"v":2,"m":[]}'))).toBeNull();
    expect(decodePacket(new Uint8Array([0xff, 0x00]))).toBeNull();
  });
});
