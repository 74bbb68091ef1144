import { z } from "zod";

/**
 * Signed webhooks: `POST /hooks/<id>` runs the hook's job with the request body as its payload.
 * The signature is the only credential (no API token), checked on the control side, where the
 * hook's secret lives.
 *
 * Our scheme (preferred): `X-Dkron-Timestamp: <unix seconds>` and
 * `X-Dkron-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`, optionally
 * `X-Dkron-Delivery: <id>`. A timestamp more than WEBHOOK_TOLERANCE_MS from control's clock is
 * refused, so a captured request is useless after the window, and within it the delivery id (by
 * default the signature itself) is accepted once.
 *
 * GitHub's scheme, accepted too: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>` with
 * `X-GitHub-Delivery` as the delivery id. It signs no time, so replays are refused only while the
 * delivery id is remembered (WEBHOOK_DELIVERY_RETENTION_MS).
 */
export const WEBHOOK_HEADERS = {
  timestamp: "X-Dkron-Timestamp",
  signature: "X-Dkron-Signature",
  delivery: "X-Dkron-Delivery",
  githubSignature: "X-Hub-Signature-256",
  githubDelivery: "X-GitHub-Delivery",
} as const;

/** How far a signed timestamp may be from control's clock, either way: 5 minutes. */
export const WEBHOOK_TOLERANCE_MS = 5 * 60_000;

/**
 * How long an accepted delivery id is remembered (and a second delivery with it refused): 24 hours.
 * For our scheme that is far beyond the timestamp window (a replay after it fails on the timestamp
 * anyway, even on a leader whose clock is off by hours); for GitHub's it is the whole protection.
 */
export const WEBHOOK_DELIVERY_RETENTION_MS = 24 * 60 * 60_000;

/** The environment variable a shell job finds its webhook payload's file path in. */
export const WEBHOOK_PAYLOAD_ENV = "DKRON_WEBHOOK_PAYLOAD";

/** Longest delivery id accepted (GitHub's are 36-character GUIDs). */
export const MAX_DELIVERY_ID = 200;

/** The text our scheme signs: the timestamp, a dot, the raw body. */
export function signedText(timestamp: string, body: string): string {
  return `${timestamp}.${body}`;
}

/** Where a hook is delivered, relative to the API's origin. */
export function hookPath(id: string): string {
  return `/hooks/${encodeURIComponent(id)}`;
}

/** The body of POST /v1/webhooks. */
export const WebhookCreateSchema = z.strictObject({
  job: z.string({ error: "must be the name of a job" }).min(1, "cannot be empty"),
});
/** A parsed hook request. */
export type WebhookCreate = z.output<typeof WebhookCreateSchema>;

/** The signature headers of one delivery, as the edge read them (absent when not sent). */
export const DeliveryHeadersSchema = z.object({
  timestamp: z.string().optional(),
  signature: z.string().optional(),
  delivery: z.string().optional(),
  github_signature: z.string().optional(),
  github_delivery: z.string().optional(),
});
/** Signature headers of a delivery. */
export type DeliveryHeaders = z.infer<typeof DeliveryHeadersSchema>;

/** A hook as the API shows it: never its secret, which only the create answer carries. */
export interface WebhookJson {
  id: string;
  job: string;
  created_at: string;
  last_delivery_at: string | null;
  /** Where to send deliveries: absolute once the edge knows its origin, else `/hooks/<id>`. */
  url: string;
}

/** The answer to POST /v1/webhooks: the hook and, this once, its signing secret. */
export interface CreatedWebhookJson extends WebhookJson {
  secret: string;
}

/** The 202 answer to an accepted delivery. */
export interface DeliveryJson {
  /** The first execution started (one per target; see `executions`). */
  execution_id: string;
  executions: string[];
  job: string;
  /** The delivery id the replay check keyed on. */
  delivery: string;
}
