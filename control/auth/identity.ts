import type { Scope } from "../../shared";

/** Who a call is for, once authenticated: a token, everyone (auth off), or the node itself. */
export interface Identity {
  /** The token id; "anonymous" with auth off; "system" for the node's own calls; "hook:<id>" for a webhook. */
  tokenId: string;
  /** The token's name, as the audit log shows it. */
  name: string;
  scopes: readonly Scope[];
  /** Job-name prefix the identity is limited to; "" = every job. */
  prefix: string;
  /** The API client's address as the edge saw it. */
  client: string;
  /** Calls the node makes itself (flushing token uses); never granted to an API client. */
  internal?: boolean;
}

/** The identity of every caller when auth is off (`--insecure-no-auth`): an admin with no token. */
export function anonymousAdmin(client: string): Identity {
  return { tokenId: "anonymous", name: "anonymous", scopes: ["admin"], prefix: "", client };
}

/** The node's own identity for what it does without a client (flushing last-used times). */
export const SYSTEM_IDENTITY: Identity = {
  tokenId: "system",
  name: "system",
  scopes: ["admin"],
  prefix: "",
  client: "",
  internal: true,
};
