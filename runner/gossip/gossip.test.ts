import { describe, expect, it } from "vitest";
import { FakeClock } from "../../test/helpers/fake-clock";
import { MemoryDatagramNetwork } from "../../test/helpers/memory-datagram";
import { Gossip } from "./gossip";
import { generateGossipKey, Keyring } from "./keyring";
import type { MemberEvent } from "./membership";
import { seededRandom } from "./random";

// The Gossip shell (encode, encrypt, one timer at the core's deadline) on a FakeClock over in-memory
// datagrams with 1% loss: virtual time, seeded, no sockets.
function pool(seed: number) {
  const clock = new FakeClock();
  const net = new MemoryDatagramNetwork(clock, seededRandom(seed));
  net.dropRate = 0.01;
  const events: { who: string; e: MemberEvent }[] = [];
  const make = (name: string, keys: string[] | null, join: string[] = []) => {
    const keyring = keys ? new Keyring(keys) : undefined;
    const g = Gossip.create(
      { name, meta: { role: name.startsWith("c") ? "control" : "runner", version: "0.1.0", tags: {} }, join },
      {
        clock,
        random: seededRandom(seed + name.length * 7919 + name.charCodeAt(name.length - 1)),
        transport: net.bind(name, 7946),
        keyring,
      },
    );
    g.onEvent((e) => events.push({ who: name, e }));
    g.start();
    return { g, keyring };
  };
  const aliveEverywhere = (gs: Gossip[]) =>
    gs.every((g) => g.members().filter((m) => m.status === "alive").length === gs.length);
  return { clock, make, events, aliveEverywhere };
}

describe("Gossip shell with a keyring, on virtual time", () => {
  it("members with the key find each other from one address; a member with a wrong key is dropped", () => {
    const p = pool(7);
    const key = generateGossipKey();
    const c1 = p.make("c1", [key]);
    const rs = ["r1", "r2", "r3", "r4"].map((n) => p.make(n, [key], ["c1:7946"]));
    const all = [c1, ...rs].map((x) => x.g);
    p.clock.advance(5_000);
    expect(p.aliveEverywhere(all)).toBe(true);
    const intruder = p.make("rX", [generateGossipKey()], ["c1:7946"]);
    p.clock.advance(10_000);
    expect(all.every((g) => g.members().every((m) => m.name !== "rX"))).toBe(true);
    expect(intruder.g.members().map((m) => m.name)).toEqual(["rX"]);
    expect(c1.g.counters.undecryptable).toBeGreaterThan(0);
    // Plain text is not accepted by an encrypted pool either.
    const plain = p.make("rP", null, ["c1:7946"]);
    p.clock.advance(5_000);
    expect(plain.g.members()).toHaveLength(1);
  });

  it("rotates keys with install, use, remove without losing a member", () => {
    const p = pool(8);
    const oldKey = generateGossipKey();
    const newKey = generateGossipKey();
    const ms = ["c1", "r1", "r2", "r3", "r4", "r5"].map((n, i) => p.make(n, [oldKey], i ? ["c1:7946"] : []));
    const all = ms.map((x) => x.g);
    p.clock.advance(5_000);
    expect(p.aliveEverywhere(all)).toBe(true);
    const step = (fn: (k: Keyring) => void) => {
      for (const m of ms) {
        fn(m.keyring as Keyring);
        // Members switch one by one, so for a while the pool holds both primaries.
        p.clock.advance(700);
      }
      p.clock.advance(3_000);
      expect(p.aliveEverywhere(all)).toBe(true);
    };
    step((k) => k.install(newKey));
    step((k) => k.use(newKey));
    step((k) => k.remove(oldKey));
    expect(ms.every((m) => m.keyring?.list().keys.join() === newKey)).toBe(true);
    expect(p.events.filter((x) => x.e.type === "failed" || x.e.type === "suspect")).toEqual([]);
  });

  it("leave() marks the member left everywhere, then closes it", async () => {
    const p = pool(9);
    const ms = ["c1", "r1", "r2", "r3"].map((n, i) => p.make(n, null, i ? ["c1:7946"] : []));
    p.clock.advance(5_000);
    const done = ms[3]!.g.leave();
    await p.clock.advanceAsync(1_000);
    await done;
    expect(ms[3]!.g.state).toBe("stopped");
    expect(ms.slice(0, 3).every((m) => m.g.members().find((v) => v.name === "r3")?.status === "left")).toBe(
      true,
    );
  });
});
