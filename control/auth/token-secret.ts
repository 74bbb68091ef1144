import { createHash, timingSafeEqual } from "node:crypto";
import { formatToken } from "../../shared";

/** Hex SHA-256 of a token's secret: secrets carry 192 random bits, so a slow hash buys nothing. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** Whether `secret` hashes to `hash`, compared in constant time. */
export function secretMatches(secret: string, hash: string): boolean {
  const a = Buffer.from(hashSecret(secret), "hex");
  const b = Buffer.from(hash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A new token from a random source: its id, the full token (shown once) and the hash to store. */
export function mintToken(random: () => string): { id: string; token: string; hash: string } {
  const id = idFrom(random());
  const secret = secretFrom(random);
  return { id, token: formatToken(id, secret), hash: hashSecret(secret) };
}

/** A new id and secret (for join tokens and runner credentials), and the hash of the secret to store. */
export function mintSecretPair(random: () => string): { id: string; secret: string; hash: string } {
  const id = idFrom(random());
  const secret = secretFrom(random);
  return { id, secret, hash: hashSecret(secret) };
}

/** The first 16 base64url characters of a random string: a 96-bit id. */
function idFrom(r: string): string {
  const id = r.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 16);
  if (id.length < 16) throw new Error("token ids need a random source of at least 16 base64url characters");
  return id;
}

/** At least 32 base64url characters of secret. */
function secretFrom(random: () => string): string {
  let s = "";
  while (s.length < 32) s += random().replace(/[^A-Za-z0-9_-]/g, "");
  return s;
}
