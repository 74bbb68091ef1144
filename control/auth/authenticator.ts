import { AppError, type Caller, type Clock, parseToken, type Scope } from "../../shared";
import { getToken, type StateDb, type TokenRow } from "../store";
import { DEFAULT_FAILURE_LIMIT, FailureLimiter, type FailureLimitOptions } from "./failure-limiter";
import { anonymousAdmin, type Identity } from "./identity";
import { secretMatches } from "./token-secret";

/** How a node authenticates API clients. */
export interface AuthenticatorOptions {
  state: StateDb;
  clock: Clock;
  /** "tokens": every call needs a valid token; "off": `--insecure-no-auth`, everyone is admin. */
  mode: "tokens" | "off";
  /** Where a user finds a token, named in the 401 for a call that sent none. */
  hint?: string;
  limits?: FailureLimitOptions;
}

/**
 * Turns a caller's bearer token into an identity: looked up by id in the replicated tokens table,
 * its secret compared by hash in constant time, expiry checked against control's clock. Bad tokens
 * count against the client's address (429 past the limit). Uses are remembered in memory and
 * handed out by `takeUses` for one batched write, never a Raft entry per request.
 */
export class Authenticator {
  private readonly limiter: FailureLimiter;
  private uses = new Map<string, number>();

  constructor(private readonly o: AuthenticatorOptions) {
    this.limiter = new FailureLimiter(o.limits ?? DEFAULT_FAILURE_LIMIT);
  }

  /** Whether tokens are checked at all. */
  get enabled(): boolean {
    return this.o.mode === "tokens";
  }

  /** The caller's identity; throws UNAUTHORIZED (no, bad, expired or revoked token) or RATE_LIMITED. */
  identify(caller: Caller): Identity {
    if (this.o.mode === "off") return anonymousAdmin(caller.client);
    const now = this.o.clock.now();
    const wait = this.limiter.retryAfter(caller.client, now);
    if (wait > 0)
      throw new AppError(
        "RATE_LIMITED",
        `too many failed authentications from ${caller.client || "this client"}; retry in ${Math.ceil(wait / 1000)} s`,
        { retry_after_s: Math.ceil(wait / 1000) },
      );
    if (caller.token === undefined || caller.token === "")
      throw new AppError(
        "UNAUTHORIZED",
        `missing token: send "Authorization: Bearer <token>"${this.o.hint ? ` (${this.o.hint})` : ""}`,
      );
    const row = this.lookup(caller.token);
    if (!row) {
      this.limiter.fail(caller.client, now);
      throw new AppError("UNAUTHORIZED", "invalid or revoked token");
    }
    if (row.expiresAt !== null && row.expiresAt <= now) {
      this.limiter.fail(caller.client, now);
      throw new AppError(
        "UNAUTHORIZED",
        `token "${row.name}" expired at ${new Date(row.expiresAt).toISOString()}`,
      );
    }
    this.uses.set(row.id, now);
    return {
      tokenId: row.id,
      name: row.name,
      scopes: row.scopes.split(",") as Scope[],
      prefix: row.prefix,
      client: caller.client,
    };
  }

  /** The tokens used since the last call, with their latest use; clears the list. */
  takeUses(): { id: string; at: number }[] {
    const out = [...this.uses].map(([id, at]) => ({ id, at }));
    this.uses = new Map();
    return out;
  }

  /** Puts uses back after a failed flush, keeping any later use. */
  returnUses(uses: { id: string; at: number }[]): void {
    for (const u of uses) if ((this.uses.get(u.id) ?? 0) < u.at) this.uses.set(u.id, u.at);
  }

  private lookup(token: string): TokenRow | undefined {
    const parsed = parseToken(token);
    if (!parsed) return undefined;
    const row = getToken(this.o.state, parsed.id);
    return row && secretMatches(parsed.secret, row.hash) ? row : undefined;
  }
}
