/** The real source of secret randomness in every runtime (Web Crypto): n random bytes. */
export function webRandomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}
