import { describe, expect, it } from "vitest";
import { GossipKeySchema, KeyRequestSchema, keyringAfter, MAX_GOSSIP_KEYS } from "./gossip-keyring";

/** A valid key made of one repeated base64 character. */
const key = (c: string) => `${c.repeat(42)}A=`;
const [a, b, c] = [key("a"), key("b"), key("c")];
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { code: string }).code;
  }
  return "ok";
};

describe("gossip keyring transitions (Serf's keys install/use/remove)", () => {
  it("a key is 32 bytes of canonical base64; anything else is refused naming the format", () => {
    expect(GossipKeySchema.safeParse(a).success).toBe(true);
    expect(GossipKeySchema.safeParse(` ${a}\n`).data).toBe(a);
    // 43 characters + "=" but the last data character has bits beyond the 32nd byte.
    expect(GossipKeySchema.safeParse(`${"a".repeat(42)}B=`).success).toBe(false);
    expect(GossipKeySchema.safeParse("c2hvcnQ=").success).toBe(false);
    const r = KeyRequestSchema.safeParse({ key: "not a key" });
    expect(r.error?.issues[0]?.message).toMatch(/32 bytes in base64/);
  });

  it("the first operation starts from the leader's --encrypt keys; later ones from the replicated state", () => {
    expect(keyringAfter(null, [a], "install", b)).toEqual([a, b]);
    expect(keyringAfter([a, b], [c], "use", b)).toEqual([b, a]);
    expect(keyringAfter([b, a], [], "remove", a)).toEqual([b]);
  });

  it("install, use, remove walk a rotation without ever dropping the key others encrypt with", () => {
    let ring = keyringAfter(null, [a], "install", b);
    // Everyone holds a and b; a still encrypts.
    expect(ring[0]).toBe(a);
    ring = keyringAfter(ring, [], "use", b);
    expect(ring).toEqual([b, a]);
    ring = keyringAfter(ring, [], "remove", a);
    expect(ring).toEqual([b]);
  });

  it("installing an installed key changes nothing; use keeps the others in order", () => {
    expect(keyringAfter([a, b], [], "install", a)).toEqual([a, b]);
    expect(keyringAfter([a, b, c], [], "use", c)).toEqual([c, a, b]);
    expect(keyringAfter([a, b], [], "use", a)).toEqual([a, b]);
  });

  it("refuses what Serf refuses, with stable codes", () => {
    expect(code(() => keyringAfter(null, [], "install", a))).toBe("CONFLICT");
    expect(code(() => keyringAfter([a], [], "use", b))).toBe("NOT_FOUND");
    expect(code(() => keyringAfter([a, b], [], "remove", a))).toBe("CONFLICT");
    expect(code(() => keyringAfter([a], [], "remove", c))).toBe("NOT_FOUND");
    const full = "abcdefgh".split("").map(key);
    expect(full).toHaveLength(MAX_GOSSIP_KEYS);
    expect(code(() => keyringAfter(full, [], "install", key("z")))).toBe("CONFLICT");
    // A refusal leaves the input as it was.
    const ring = [a, b];
    code(() => keyringAfter(ring, [], "remove", a));
    expect(ring).toEqual([a, b]);
  });
});
