import { z } from "zod";
import { parseOrThrow } from "../shared";

/** Bindings the Worker reads: CONTROL_URL from wrangler.toml [vars], CONTROL_TOKEN a wrangler secret. */
export const WorkerEnvSchema = z.object({
  CONTROL_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL of a control node" }),
  CONTROL_TOKEN: z.string().min(1, "cannot be empty").optional(),
  /** Optional X-Whom for this Worker; "edge" when unset. */
  EDGE_NAME: z.string().min(1).optional(),
});

/** The Worker's resolved bindings. */
export type WorkerEnv = z.infer<typeof WorkerEnvSchema>;

/** Checks the Worker's bindings, throwing a VALIDATION error that names the bad binding. */
export function parseWorkerEnv(env: unknown): WorkerEnv {
  return parseOrThrow(WorkerEnvSchema, env, "invalid Worker configuration");
}
