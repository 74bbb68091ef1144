import { z } from "zod";
import { parseOrThrow } from "../shared";

/**
 * The Worker's bindings as the platform hands them over, before they are checked: wrangler.toml [vars]
 * (strings, or a number for a bare TOML number) and the CONTROL_TOKEN secret.
 */
export interface WorkerBindings {
  /** Any control node, e.g. https://control.internal:8080 ([vars]). */
  CONTROL_URL?: string;
  /** The control cluster's service secret (`wrangler secret put CONTROL_TOKEN`, or .dev.vars locally). */
  CONTROL_TOKEN?: string;
  /** X-Whom of this Worker ([vars]); "edge" when unset. */
  EDGE_NAME?: string;
  /** Largest request body in bytes ([vars]); 1 MiB when unset. */
  MAX_BODY_BYTES?: string | number;
}

/** Bindings the Worker reads: CONTROL_URL from wrangler.toml [vars], CONTROL_TOKEN a wrangler secret. */
export const WorkerEnvSchema = z.object({
  CONTROL_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL of a control node" }),
  CONTROL_TOKEN: z.string().min(1, "cannot be empty").optional(),
  /** Optional X-Whom for this Worker; "edge" when unset. */
  EDGE_NAME: z.string().min(1).optional(),
  /** Largest request body accepted, in bytes (a [vars] string); 1 MiB when unset. */
  MAX_BODY_BYTES: z.coerce
    .number()
    .int("must be a whole number of bytes")
    .min(1024, "at least 1024 bytes")
    .max(100 * 1024 * 1024, "at most 100 MiB (the Workers request limit)")
    .optional(),
});

/** The Worker's resolved bindings. */
export type WorkerEnv = z.infer<typeof WorkerEnvSchema>;

/** Checks the Worker's bindings, throwing a VALIDATION error that names the bad binding. */
export function parseWorkerEnv(env: unknown): WorkerEnv {
  return parseOrThrow(WorkerEnvSchema, env, "invalid Worker configuration");
}
