import {
  type Clock,
  type GossipKeyJson,
  KeyRequestSchema,
  type KeyringListJson,
  type KeyringOp,
  parseOrThrow,
} from "../../shared";
import type { Identity } from "../auth";
import type { Command } from "../fsm";
import { getGossipKeyring, type StateDb } from "../store";

/** What this node's gossip member shows of the keyring (control/main.ts builds it from the pool). */
export interface GossipKeyView {
  /** The keys this node's gossip member holds now, primary first (empty: plain text). */
  local(): string[];
  /** Live members (alive or suspect) and the key fingerprints each advertises in its meta, primary first. */
  holders(): { name: string; keys: string[] }[];
  /** A key's public fingerprint (gossip's keyFingerprint). */
  fingerprint(key: string): string;
}

/** What the keyring methods need from the control service. */
export interface KeyringServiceDeps {
  state: StateDb;
  clock: Clock;
  gossip: GossipKeyView | undefined;
  /** Proposes a write on the leader, audited for `who` as `action`; a rejection throws the AppError it names. */
  write: (cmd: Command, who: Identity, target: string, detail: string, action: string) => Promise<unknown>;
}

/**
 * The gossip keyring methods of the control-api (GET/POST/PUT/DELETE /v1/keys): each operation is
 * one `gossip-keys.change` command, so every control node re-keys on its apply and the leader tells
 * its runners; `list` counts holders from the fingerprints members gossip in their meta.
 */
export class KeyringService {
  constructor(private readonly d: KeyringServiceDeps) {}

  /** Installed keys with how many live members hold each (Serf's `keys list`). */
  list(): KeyringListJson {
    const replicated = getGossipKeyring(this.d.state);
    const local = this.d.gossip?.local() ?? [];
    const keys = replicated ?? local;
    const holders = this.d.gossip?.holders() ?? [];
    const fp = (k: string) => this.d.gossip?.fingerprint(k) ?? "";
    return {
      encrypted: keys.length > 0,
      source: replicated ? "raft" : local.length ? "flags" : "none",
      total: holders.length,
      keys: keys.map((key, i): GossipKeyJson => {
        const f = fp(key);
        return {
          key,
          fingerprint: f,
          primary: i === 0,
          members: holders.filter((h) => h.keys.includes(f)).length,
          encrypting: holders.filter((h) => h.keys[0] === f).length,
          missing: holders.filter((h) => !h.keys.includes(f)).map((h) => h.name),
        };
      }),
    };
  }

  /** One operation on the cluster's keyring; answers the keyring as `list` shows it after the commit. */
  async change(op: KeyringOp, body: unknown, who: Identity): Promise<KeyringListJson> {
    const { key } = parseOrThrow(KeyRequestSchema, body, "keyring");
    const fingerprint = this.d.gossip?.fingerprint(key) ?? "";
    await this.d.write(
      { type: "gossip-keys.change", at: this.d.clock.now(), op, key, seed: this.d.gossip?.local() ?? [] },
      who,
      // The audit log names the key by its fingerprint: it is kept and shown to admins long after.
      fingerprint,
      op,
      `keys.${op}`,
    );
    return this.list();
  }
}
