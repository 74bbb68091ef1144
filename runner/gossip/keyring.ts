import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { AppError } from "../../shared";

/** Version byte of the encrypted datagram format. */
const ENCRYPTION_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Bound into every datagram's tag, so a ciphertext of another protocol under the same key fails. */
const AAD = new TextEncoder().encode("dkron-gossip/1");

/** Bytes encryption adds to a datagram: version, nonce, GCM tag. */
export const ENCRYPTION_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;

/** A new gossip key: 32 random bytes, base64 (what `dkron keygen` prints). */
export function generateGossipKey(): string {
  return randomBytes(32).toString("base64");
}

/** The 32 bytes of a base64 key; a VALIDATION error for anything else. */
export function parseGossipKey(text: string): Buffer {
  const trimmed = text.trim();
  const bytes = Buffer.from(trimmed, "base64");
  if (bytes.length !== 32 || bytes.toString("base64") !== trimmed)
    throw new AppError(
      "VALIDATION",
      "a gossip encryption key is 32 bytes in base64 (44 characters); make one with `dkron keygen`",
    );
  return bytes;
}

/**
 * A key's public name: the first 8 hex digits of its SHA-256. Members advertise these in their gossip
 * meta and logs print them; the key itself is never logged.
 */
export function keyFingerprint(key: string): string {
  return createHash("sha256").update(parseGossipKey(key)).digest("hex").slice(0, 8);
}

/**
 * AES-256-GCM for gossip datagrams with Serf's key rotation: the primary key encrypts, every
 * installed key is tried to decrypt, so a pool rotates without a partition by installing the new key
 * everywhere, then using it everywhere, then removing the old one. Datagrams are
 * `[version 1][12-byte random nonce][ciphertext][16-byte tag]` (memberlist security.go's layout).
 */
export class Keyring {
  private keys: { text: string; bytes: Buffer }[] = [];

  /** A keyring whose primary key is the first. */
  constructor(keys: string[]) {
    if (keys.length === 0) throw new AppError("VALIDATION", "a keyring needs at least one key");
    for (const k of keys) this.install(k);
  }

  /** Installed keys, primary first (base64). */
  list(): { primary: string; keys: string[] } {
    return { primary: (this.keys[0] as { text: string }).text, keys: this.keys.map((k) => k.text) };
  }

  /** Fingerprints of the installed keys, primary first (what the member advertises in its meta). */
  fingerprints(): string[] {
    return this.keys.map((k) => keyFingerprint(k.text));
  }

  /**
   * Replaces every key at once with the replicated keyring (primary first), as a control node does
   * on apply and a runner on its leader's `keyring` frame; nothing changes if a key is malformed.
   */
  replace(keys: readonly string[]): void {
    if (keys.length === 0) throw new AppError("VALIDATION", "a keyring needs at least one key");
    const next = keys.map((k) => {
      const bytes = parseGossipKey(k);
      return { text: bytes.toString("base64"), bytes };
    });
    this.keys = next.filter((k, i) => next.findIndex((o) => o.text === k.text) === i);
  }

  /** Adds a key for decryption (Serf `keys install`); installing an installed key changes nothing. */
  install(key: string): void {
    const bytes = parseGossipKey(key);
    const text = bytes.toString("base64");
    if (!this.keys.some((k) => k.text === text)) this.keys.push({ text, bytes });
  }

  /** Makes an installed key the primary, the one that encrypts (Serf `keys use`). */
  use(key: string): void {
    const text = parseGossipKey(key).toString("base64");
    const i = this.keys.findIndex((k) => k.text === text);
    if (i < 0) throw new AppError("NOT_FOUND", "that key is not installed; `keys install` it first");
    const [k] = this.keys.splice(i, 1);
    if (k) this.keys.unshift(k);
  }

  /** Removes a key (Serf `keys remove`); the primary key cannot be removed. */
  remove(key: string): void {
    const text = parseGossipKey(key).toString("base64");
    const i = this.keys.findIndex((k) => k.text === text);
    if (i === 0)
      throw new AppError("CONFLICT", "the primary key cannot be removed; `keys use` another first");
    if (i > 0) this.keys.splice(i, 1);
  }

  /** Encrypts one datagram with the primary key. */
  encrypt(plain: Uint8Array): Buffer {
    const key = (this.keys[0] as { bytes: Buffer }).bytes;
    const nonce = randomBytes(NONCE_BYTES);
    const c = createCipheriv("aes-256-gcm", key, nonce);
    c.setAAD(AAD);
    const body = Buffer.concat([c.update(plain), c.final()]);
    return Buffer.concat([Buffer.from([ENCRYPTION_VERSION]), nonce, body, c.getAuthTag()]);
  }

  /** Decrypts one datagram with whichever installed key opens it; null if none does. */
  decrypt(data: Uint8Array): Buffer | null {
    if (data.length < ENCRYPTION_OVERHEAD || data[0] !== ENCRYPTION_VERSION) return null;
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const nonce = buf.subarray(1, 1 + NONCE_BYTES);
    const body = buf.subarray(1 + NONCE_BYTES, buf.length - TAG_BYTES);
    const tag = buf.subarray(buf.length - TAG_BYTES);
    for (const k of this.keys) {
      try {
        const d = createDecipheriv("aes-256-gcm", k.bytes, nonce);
        d.setAAD(AAD);
        d.setAuthTag(tag);
        return Buffer.concat([d.update(body), d.final()]);
      } catch {
        // Not this key: try the next.
      }
    }
    return null;
  }
}
