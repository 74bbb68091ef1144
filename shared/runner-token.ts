import { z } from "zod";
import { parseGoDuration } from "./time";

/**
 * Runner join tokens and per-runner credentials. A join token (`drj.<id>.<secret>`, made by an admin
 * with `dkron runner-token create`) is exchanged once per runner at POST /v1/runners/join for the
 * runner's own credential (`drc.<id>.<secret>`), which it presents on its WebSocket from then on.
 */

/** Join tokens: `drj.` + 16-character id + secret; greppable for secret scanners. */
export const JOIN_TOKEN_PATTERN = /^drj\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{32,})$/;
/** Runner credentials: `drc.` + 16-character id + secret. */
export const RUNNER_CREDENTIAL_PATTERN = /^drc\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{32,})$/;

/** Splits a join token into id and secret; undefined when it is not one. */
export function parseJoinToken(token: string): { id: string; secret: string } | undefined {
  const m = JOIN_TOKEN_PATTERN.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** Splits a runner credential into id and secret; undefined when it is not one. */
export function parseRunnerCredential(token: string): { id: string; secret: string } | undefined {
  const m = RUNNER_CREDENTIAL_PATTERN.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** Longest tag key and value, and most tags, a join token or runner may carry. */
export const RUNNER_TAG_LIMITS = { key: 100, value: 200, count: 50 } as const;

/** Runner names: what a hostname may be, plus `_` and `.`. */
export const RUNNER_NAME = z
  .string({ error: "must be a string" })
  .min(1, "cannot be empty")
  .max(100, "at most 100 characters")
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "use letters, digits and _ . - (starting with a letter or digit)");

/**
 * Tag keys that say "control node" (control/node-tags.ts; docs/api.md "Node tags"). A job tagged
 * `server: "true:1"` or Dkron 1.x's `dkron_server` is meant for a control node, so no remote runner
 * may carry them: a join or a join token asking for one is refused, and the hub drops them from a
 * remote runner's hello.
 */
export const RESERVED_RUNNER_TAGS: readonly string[] = [
  "server",
  "dkron_server",
  "role",
  "rpc_addr",
  "dkron_rpc_addr",
  "bootstrap",
  "expect",
];

/** A map of runner tags (`k=v` on the command line). */
export const RunnerTagsSchema = z
  .record(
    z
      .string()
      .min(1, "a tag key cannot be empty")
      .max(RUNNER_TAG_LIMITS.key, `tag keys are at most ${RUNNER_TAG_LIMITS.key} characters`)
      .regex(/^[A-Za-z0-9_.\-/]+$/, "tag keys use letters, digits and _ . - /"),
    z
      .string({ error: "tag values must be strings" })
      .max(RUNNER_TAG_LIMITS.value, `tag values are at most ${RUNNER_TAG_LIMITS.value} characters`)
      // A `:` would be read as Dkron's `value:count` cardinality by a job's target tags.
      .regex(/^[^:]*$/, "tag values cannot contain ':'"),
  )
  .refine((t) => Object.keys(t).length <= RUNNER_TAG_LIMITS.count, {
    message: `at most ${RUNNER_TAG_LIMITS.count} tags`,
  })
  .superRefine((t, ctx) => {
    for (const key of Object.keys(t))
      if (RESERVED_RUNNER_TAGS.includes(key))
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `"${key}" is reserved for control nodes and cannot be a runner's tag (reserved: ${RESERVED_RUNNER_TAGS.join(", ")})`,
        });
  });

/** The body of POST /v1/runner-tokens. */
export const JoinTokenCreateSchema = z.strictObject({
  /** How long the token can be used, as a Go duration ("24h"); default 24h. */
  ttl: z
    .string({ error: 'must be a duration such as "24h"' })
    .default("24h")
    .transform((v, ctx) => {
      const ms = parseGoDuration(v);
      if (ms === null || ms <= 0) {
        ctx.addIssue({ code: "custom", message: `must be a positive duration such as "24h", got "${v}"` });
        return z.NEVER;
      }
      return ms;
    }),
  /** Burned by the first runner that joins with it. */
  single_use: z.boolean({ error: "must be true or false" }).default(false),
  /** Tags every runner joining with it gets, over the ones it asks for. */
  tags: RunnerTagsSchema.default({}),
});

/** A parsed join token request. */
export type JoinTokenCreate = z.output<typeof JoinTokenCreateSchema>;

/** The body of POST /v1/runners/join: the join token is the credential, no API token is needed. */
export const RunnerJoinSchema = z.strictObject({
  token: z.string({ error: "must be a string" }).min(1, "cannot be empty").max(500, "too long"),
  name: RUNNER_NAME,
  tags: RunnerTagsSchema.default({}),
});

/** A parsed join request. */
export type RunnerJoin = z.output<typeof RunnerJoinSchema>;

/** A join token as the API shows it (never its secret). */
export interface JoinTokenJson {
  id: string;
  tags: Record<string, string>;
  single_use: boolean;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  /** Runners that joined with it. */
  uses: number;
  /** When it was last used; a single-use token used once is spent. */
  used_at: string | null;
  used_by: string | null;
}

/** The answer to POST /v1/runner-tokens: the token once, in full. */
export interface CreatedJoinTokenJson extends JoinTokenJson {
  token: string;
}

/** A registered runner as the API shows it (never its credential). */
export interface RunnerJson {
  name: string;
  /** The tags the join token gave it (they win over the runner's own). */
  tags: Record<string, string>;
  joined_at: string;
  join_token: string;
  /** Whether its stream is connected to the leader now. */
  connected: boolean;
  /** Connected but draining (SIGTERM): its running executions finish, it gets no new run. */
  draining: boolean;
  /** The tags it runs with, as its last hello said (merged with `tags`); null when not connected. */
  live_tags: Record<string, string> | null;
}

/** The answer to POST /v1/runners/join: the runner's credential, shown once, and its tags. */
export interface RunnerJoinedJson {
  name: string;
  credential: string;
  /** The tags it will run with: the asked ones with the join token's over them. */
  tags: Record<string, string>;
  /**
   * "host:port" of the control nodes' gossip sockets the answering node knows alive: where the
   * runner joins the gossip pool when it is given no `--gossip-join`. Absent from older nodes.
   */
  gossip?: string[];
}

/**
 * Tags a runner runs with: its own, with the join token's over them (the operator's say wins), and
 * never a reserved one (RESERVED_RUNNER_TAGS), whoever asks: a hand-edited credential file's or a
 * join token made before they were refused.
 */
export function mergeRunnerTags(
  own: Record<string, string>,
  fromToken: Record<string, string>,
): Record<string, string> {
  const tags = { ...own, ...fromToken };
  for (const key of RESERVED_RUNNER_TAGS) delete tags[key];
  return tags;
}
