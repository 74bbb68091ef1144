import { z } from "zod";
import { parseGoDuration } from "./time";

/**
 * What a REST API token may do. `read` lists and gets; `write` creates, changes and deletes jobs
 * (and their webhooks); `run` starts jobs on demand; `admin` manages tokens, reads the audit log,
 * pauses and stops nodes, and implies the rest. `write` and `run` imply `read`: a client that may
 * change a job must be able to see it.
 */
export const SCOPES = ["read", "write", "run", "admin"] as const;
/** One scope. */
export type Scope = (typeof SCOPES)[number];

/** Whether `scopes` grant `need` (admin grants all; write and run grant read). */
export function grants(scopes: readonly Scope[], need: Scope): boolean {
  if (scopes.includes("admin") || scopes.includes(need)) return true;
  return need === "read" && (scopes.includes("write") || scopes.includes("run"));
}

/** Longest token name and prefix accepted. */
export const TOKEN_LIMITS = { name: 100, prefix: 200 } as const;

/** The body of POST /v1/tokens. */
export const TokenCreateSchema = z
  .strictObject({
    name: z
      .string({ error: "must be a string" })
      .min(1, "cannot be empty")
      .max(TOKEN_LIMITS.name, `at most ${TOKEN_LIMITS.name} characters`)
      .regex(/^[A-Za-z0-9_.@:-]+$/, "use letters, digits and _ . @ : -"),
    scopes: z
      .array(z.enum(SCOPES, { error: `must be one of ${SCOPES.join(", ")}` }), {
        error: `must be a list of scopes (${SCOPES.join(", ")})`,
      })
      .min(1, "name at least one scope")
      .transform((s) => [...new Set(s)].sort((a, b) => SCOPES.indexOf(a) - SCOPES.indexOf(b))),
    /** Limits the token to jobs whose name starts with this; empty = every job. */
    prefix: z
      .string({ error: "must be a string" })
      .max(TOKEN_LIMITS.prefix, `at most ${TOKEN_LIMITS.prefix} characters`)
      .default(""),
    /** How long the token lives, as a Go duration ("720h"); absent = until revoked. */
    expires_in: z
      .string({ error: 'must be a duration such as "720h"' })
      .transform((v, ctx) => {
        const ms = parseGoDuration(v);
        if (ms === null || ms <= 0) {
          ctx.addIssue({ code: "custom", message: `must be a positive duration such as "720h", got "${v}"` });
          return z.NEVER;
        }
        return ms;
      })
      .optional(),
  })
  .superRefine((t, ctx) => {
    // A prefix-limited admin could mint itself an unlimited token: admin is cluster-wide or nothing.
    if (t.prefix && t.scopes.includes("admin"))
      ctx.addIssue({
        code: "custom",
        path: ["prefix"],
        message: "an admin token cannot be limited to a prefix",
      });
  });

/** A parsed token request. */
export type TokenCreate = z.output<typeof TokenCreateSchema>;

/** A token as the API shows it: never its secret, which only the create answer carries. */
export interface TokenJson {
  id: string;
  name: string;
  scopes: Scope[];
  prefix: string;
  created_at: string;
  /** The token id that created it, or "bootstrap" for the first start's admin token. */
  created_by: string;
  expires_at: string | null;
  last_used_at: string | null;
}

/** The answer to POST /v1/tokens: the token once, in full, with what it is. */
export interface CreatedTokenJson extends TokenJson {
  token: string;
}

/** Tokens look like `dkt.<id>.<secret>`: greppable for secret scanners, the id usable in logs and the audit log. */
export const TOKEN_PATTERN = /^dkt\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{32,})$/;

/** Splits a presented token into id and secret; undefined when it is not one of ours. */
export function parseToken(token: string): { id: string; secret: string } | undefined {
  const m = TOKEN_PATTERN.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** The token string for an id and secret. */
export function formatToken(id: string, secret: string): string {
  return `dkt.${id}.${secret}`;
}
