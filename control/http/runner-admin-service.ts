import {
  AppError,
  type Clock,
  type ControlResults,
  JoinTokenCreateSchema,
  type JoinTokenJson,
  mergeRunnerTags,
  parseJoinToken,
  parseOrThrow,
  RunnerJoinSchema,
  type RunnerJson,
} from "../../shared";
import { hashSecret, type Identity, mintSecretPair } from "../auth";
import { type Command, refuseJoin } from "../fsm";
import type { Runners } from "../hub";
import {
  getJoinToken,
  getRunner,
  type JoinTokenRow,
  listJoinTokens,
  listRunners,
  type RunnerRow,
  type StateDb,
} from "../store";

/** What the runner methods need from the control service. */
export interface RunnerAdminDeps {
  state: StateDb;
  clock: Clock;
  /** Runners connected to this node's hub (the leader's). */
  runners: Runners;
  /** Random strings (at least 16 base64url characters) for ids and secrets. */
  secret: () => string;
  /** Proposes a write on the leader, audited for `who`; a rejection throws the AppError it names. */
  write: (cmd: Command, who: Identity, target: string, detail?: string) => Promise<unknown>;
  /** Throws NOT_LEADER (with the leader's address) on a follower. */
  requireLeader: () => void;
  /** Resolves once this node has applied everything committed before the call (a ReadIndex barrier). */
  caughtUp: () => Promise<void>;
  /** The control nodes' gossip addresses, for a joining runner to join the pool through. */
  gossipSeeds?: () => string[];
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A join token row as the API shows it. */
export function joinTokenToJson(r: JoinTokenRow): JoinTokenJson {
  return {
    id: r.id,
    tags: JSON.parse(r.tags) as Record<string, string>,
    single_use: r.singleUse === 1,
    created_at: new Date(r.createdAt).toISOString(),
    created_by: r.createdBy,
    expires_at: iso(r.expiresAt),
    uses: r.uses,
    used_at: iso(r.usedAt),
    used_by: r.usedBy,
  };
}

/**
 * The runner methods of the control-api: join tokens are created and revoked as commands, a join
 * registers the runner with a fresh credential in one command (which also burns a single-use
 * token), and revoking a runner deletes its credential (the hub cuts its stream on that apply).
 */
export class RunnerAdminService {
  constructor(private readonly d: RunnerAdminDeps) {}

  /** Mints a join token; the answer is the only place its secret appears. */
  async createToken(body: unknown, who: Identity): Promise<ControlResults["runner-tokens.create"]> {
    const req = parseOrThrow(JoinTokenCreateSchema, body, "runner token");
    const { id, secret, hash } = mintSecretPair(this.d.secret);
    const at = this.d.clock.now();
    await this.d.write(
      {
        type: "runner-token.create",
        at,
        id,
        hash,
        tags: req.tags,
        singleUse: req.single_use,
        expiresAt: at + req.ttl,
        createdBy: who.tokenId,
      },
      who,
      id,
      `${req.single_use ? "single-use, " : ""}expires ${new Date(at + req.ttl).toISOString()}`,
    );
    const row = getJoinToken(this.d.state, id);
    if (!row) throw new AppError("INTERNAL", "the new join token was not stored");
    return { ...joinTokenToJson(row), token: `drj.${id}.${secret}` };
  }

  /** Every join token. */
  listTokens(): JoinTokenJson[] {
    return listJoinTokens(this.d.state).map(joinTokenToJson);
  }

  /** Revokes a join token (runners that joined with it keep their credentials). */
  async revokeToken(id: string, who: Identity): Promise<JoinTokenJson> {
    const row = getJoinToken(this.d.state, id);
    if (!row) throw new AppError("NOT_FOUND", `join token "${id}" not found`, { field: "id" });
    await this.d.write({ type: "runner-token.revoke", at: this.d.clock.now(), id }, who, id);
    return joinTokenToJson(row);
  }

  /**
   * Exchanges a join token for a runner credential. The secret is checked by the apply (against
   * the hash in the log), never here alone, so a token revoked or spent on another leader a moment
   * ago is refused too.
   */
  async join(body: unknown, who: Identity): Promise<ControlResults["runners.join"]> {
    const req = parseOrThrow(RunnerJoinSchema, body, "join");
    const parsed = parseJoinToken(req.token);
    if (!parsed)
      throw new AppError("UNAUTHORIZED", "not a join token (they look like drj.<id>.<secret>)", {
        field: "token",
      });
    this.d.requireLeader();
    const cred = mintSecretPair(this.d.secret);
    const by: Identity = { ...who, tokenId: `join:${parsed.id}`, name: `join:${parsed.id}` };
    const cmd = {
      type: "runner.join",
      at: this.d.clock.now(),
      name: req.name,
      tokenId: parsed.id,
      tokenHash: hashSecret(parsed.secret),
      credentialId: cred.id,
      credentialHash: cred.hash,
    } as const;
    // Anyone may call join: a made-up, spent or expired token is refused before anything is
    // proposed (on the state as of now, after the barrier), so it adds nothing to the log or the
    // audit; the apply checks again, and its answer is the one that counts.
    await this.d.caughtUp();
    refuseJoin(this.d.state, cmd);
    await this.d.write(cmd, by, req.name, `with join token ${parsed.id}`);
    const row = getRunner(this.d.state, req.name);
    if (!row) throw new AppError("INTERNAL", "the runner was not registered");
    const forced = JSON.parse(row.tags) as Record<string, string>;
    return {
      name: row.name,
      credential: `drc.${cred.id}.${cred.secret}`,
      tags: mergeRunnerTags(req.tags, forced),
      ...(this.d.gossipSeeds ? { gossip: this.d.gossipSeeds() } : {}),
    };
  }

  /** Registered runners with whether each is connected to this (the leader's) hub. */
  list(): RunnerJson[] {
    this.d.requireLeader();
    const live = new Map(this.d.runners.sessions().map((s) => [s.name, s]));
    return listRunners(this.d.state).map((r) => {
      const session = live.get(r.name);
      return { ...this.toJson(r, session?.tags), draining: session?.draining === true };
    });
  }

  /** Revokes a runner: its credential is deleted and its stream cut. */
  async revoke(name: string, who: Identity): Promise<RunnerJson> {
    const row = getRunner(this.d.state, name);
    if (!row) throw new AppError("NOT_FOUND", `runner "${name}" not found`, { field: "name" });
    await this.d.write({ type: "runner.revoke", at: this.d.clock.now(), name }, who, name);
    return this.toJson(row, undefined);
  }

  private toJson(r: RunnerRow, liveTags: Record<string, string> | undefined): RunnerJson {
    return {
      name: r.name,
      tags: JSON.parse(r.tags) as Record<string, string>,
      joined_at: new Date(r.joinedAt).toISOString(),
      join_token: r.joinToken,
      connected: liveTags !== undefined,
      draining: false,
      live_tags: liveTags ?? null,
    };
  }
}
