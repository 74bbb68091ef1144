import { describe, expect, it } from "vitest";
import { ENCRYPTION_OVERHEAD, generateGossipKey, Keyring, parseGossipKey } from "./keyring";

describe("gossip keyring", () => {
  const a = generateGossipKey();
  const b = generateGossipKey();
  const plain = new TextEncoder().encode('{"v":1,"m":[]}');

  it("keys are 32 random bytes in base64; anything else is a VALIDATION error", () => {
    expect(parseGossipKey(a)).toHaveLength(32);
    expect(a).not.toBe(b);
    expect(() => parseGossipKey("c2hvcnQ=")).toThrow(/32 bytes/);
    expect(() => parseGossipKey("not base64!")).toThrow(expect.objectContaining({ code: "VALIDATION" }));
  });

  it("the primary key encrypts; any installed key decrypts; others do not", () => {
    const ring = new Keyring([a]);
    const sealed = ring.encrypt(plain);
    expect(sealed.length).toBe(plain.length + ENCRYPTION_OVERHEAD);
    expect(new Keyring([b, a]).decrypt(sealed)?.toString()).toBe('{"v":1,"m":[]}');
    expect(new Keyring([b]).decrypt(sealed)).toBeNull();
    // Tampering with any byte fails the tag.
    const bad = Buffer.from(sealed);
    bad[20] = (bad[20] as number) ^ 1;
    expect(ring.decrypt(bad)).toBeNull();
    expect(ring.decrypt(plain)).toBeNull();
  });

  it("install, use, remove as Serf's: the primary cannot be removed, an unknown key cannot be used", () => {
    const ring = new Keyring([a]);
    expect(() => ring.use(b)).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
    ring.install(b);
    ring.install(b);
    expect(ring.list()).toEqual({ primary: a, keys: [a, b] });
    ring.use(b);
    expect(ring.list().primary).toBe(b);
    expect(() => ring.remove(b)).toThrow(expect.objectContaining({ code: "CONFLICT" }));
    ring.remove(a);
    expect(ring.list()).toEqual({ primary: b, keys: [b] });
    expect(new Keyring([a]).decrypt(ring.encrypt(plain))).toBeNull();
  });
});
