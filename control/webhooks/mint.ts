/** Characters kept from a random string: base64url's alphabet. */
const NOT_BASE64URL = /[^A-Za-z0-9_-]/g;

/** Prefix of every hook secret, so secret scanners and people can tell what one is. */
export const HOOK_SECRET_PREFIX = "whsec_";

/**
 * A new hook's id (the first 16 base64url characters of one random string: 96 bits, unguessable, so
 * hooks cannot be enumerated) and its signing secret (at least 32 more of them, 192 bits).
 */
export function mintHook(random: () => string): { id: string; secret: string } {
  const id = random().replace(NOT_BASE64URL, "").slice(0, 16);
  if (id.length < 16) throw new Error("hook ids need a random source of at least 16 base64url characters");
  let secret = "";
  while (secret.length < 32) secret += random().replace(NOT_BASE64URL, "");
  return { id, secret: `${HOOK_SECRET_PREFIX}${secret}` };
}
