import { createHmac, timingSafeEqual } from "node:crypto";
import {
  AppError,
  type DeliveryHeaders,
  MAX_DELIVERY_ID,
  signedText,
  WEBHOOK_HEADERS,
  WEBHOOK_TOLERANCE_MS,
} from "../../shared";

/** A delivery whose signature checked out: the id its replay check keys on, and the scheme. */
export interface VerifiedDelivery {
  id: string;
  /** The checked signature (hex, lower case): a second replay key, since the id header is not signed. */
  signature: string;
  scheme: "dkron" | "github";
}

/** What one delivery is checked against. */
export interface VerifyInput {
  secret: string;
  /** The raw request body, as text. */
  body: string;
  headers: DeliveryHeaders;
  /** Control's clock (ms). */
  now: number;
  /** How far the timestamp may be from `now` (default WEBHOOK_TOLERANCE_MS). */
  toleranceMs?: number;
}

const SIGNATURE = /^sha256=([0-9a-fA-F]{64})$/;
const TIMESTAMP = /^\d{1,12}$/;

/** Hex HMAC-SHA256 of `text` under `secret`. */
export function hmacHex(secret: string, text: string): string {
  return createHmac("sha256", secret).update(text, "utf8").digest("hex");
}

/**
 * Checks a delivery's signature (pure but for the HMAC): ours (`X-Dkron-Signature` over
 * "<timestamp>.<body>", the timestamp within the window of `now`) when sent, else GitHub's
 * (`X-Hub-Signature-256` over the body). The signature is checked before the timestamp, so a caller
 * without the secret learns nothing but "bad signature". Throws UNAUTHORIZED naming what is wrong,
 * BAD_REQUEST for an unusable delivery id.
 */
export function verifyDelivery(input: VerifyInput): VerifiedDelivery {
  const { headers: h } = input;
  if (h.signature !== undefined) {
    if (h.timestamp === undefined)
      throw unauthorized(`${WEBHOOK_HEADERS.signature} needs ${WEBHOOK_HEADERS.timestamp} (unix seconds)`);
    const given = signatureHex(h.signature, WEBHOOK_HEADERS.signature);
    if (!sameHex(given, hmacHex(input.secret, signedText(h.timestamp, input.body))))
      throw unauthorized(
        `${WEBHOOK_HEADERS.signature} does not match: sign "<timestamp>.<raw body>" with the hook's secret (HMAC-SHA256, hex)`,
      );
    checkTimestamp(h.timestamp, input.now, input.toleranceMs ?? WEBHOOK_TOLERANCE_MS);
    return {
      id: deliveryId(h.delivery, WEBHOOK_HEADERS.delivery) ?? given.toLowerCase(),
      signature: given.toLowerCase(),
      scheme: "dkron",
    };
  }
  if (h.github_signature !== undefined) {
    const given = signatureHex(h.github_signature, WEBHOOK_HEADERS.githubSignature);
    if (!sameHex(given, hmacHex(input.secret, input.body)))
      throw unauthorized(
        `${WEBHOOK_HEADERS.githubSignature} does not match: sign the raw body with the hook's secret (HMAC-SHA256, hex)`,
      );
    return {
      id: deliveryId(h.github_delivery, WEBHOOK_HEADERS.githubDelivery) ?? given.toLowerCase(),
      signature: given.toLowerCase(),
      scheme: "github",
    };
  }
  throw unauthorized(
    `missing signature: send ${WEBHOOK_HEADERS.timestamp} and ${WEBHOOK_HEADERS.signature} (or GitHub's ${WEBHOOK_HEADERS.githubSignature})`,
  );
}

function unauthorized(message: string): AppError {
  return new AppError("UNAUTHORIZED", message, { field: "signature" });
}

/** The hex digest of a `sha256=<hex>` header, or UNAUTHORIZED naming the header. */
function signatureHex(value: string, header: string): string {
  const m = SIGNATURE.exec(value.trim());
  if (!m) throw unauthorized(`${header} must be "sha256=" followed by 64 hex digits`);
  return m[1]!;
}

/** Constant-time comparison of two 64-digit hex digests (case-insensitive). */
function sameHex(given: string, expected: string): boolean {
  const a = Buffer.from(given.toLowerCase(), "hex");
  const b = Buffer.from(expected, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

function checkTimestamp(value: string, now: number, toleranceMs: number): void {
  const t = value.trim();
  if (!TIMESTAMP.test(t))
    throw unauthorized(`${WEBHOOK_HEADERS.timestamp} must be unix seconds, got "${value.slice(0, 40)}"`);
  const skewMs = Number(t) * 1000 - now;
  if (Math.abs(skewMs) > toleranceMs) {
    const minutes = toleranceMs / 60_000;
    throw new AppError(
      "UNAUTHORIZED",
      `${WEBHOOK_HEADERS.timestamp} ${t} is ${Math.round(Math.abs(skewMs) / 1000)} s ${skewMs < 0 ? "old" : "in the future"}; deliveries must be signed within ${minutes} minutes of the server's clock (now ${Math.floor(now / 1000)})`,
      { field: "timestamp", tolerance_s: toleranceMs / 1000 },
    );
  }
}

/** A delivery id header's value, trimmed; undefined when absent or empty. */
function deliveryId(value: string | undefined, header: string): string | undefined {
  const id = value?.trim();
  if (!id) return undefined;
  if (id.length > MAX_DELIVERY_ID || /[\u0000-\u001f]/.test(id))
    throw new AppError("BAD_REQUEST", `${header} must be at most ${MAX_DELIVERY_ID} printable characters`, {
      field: "delivery",
    });
  return id;
}
