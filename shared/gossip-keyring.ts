import { z } from "zod";
import { AppError } from "./errors";

/**
 * The gossip keyring's vocabulary: keys, the replicated desired state (installed keys, primary
 * first) and Serf's three operations on it as a pure transition, shared by the control nodes' state
 * machine, the API and the runner wire protocol.
 */

/** Most keys installed at once: every member advertises one fingerprint per key in its gossip meta. */
export const MAX_GOSSIP_KEYS = 8;

/**
 * 32 bytes in canonical base64 (44 characters, one `=`): what `dkron keygen` prints. Checked by
 * shape, since shared/ has no Buffer; the last data character carries 4 bits, so its low 2 are 0.
 */
export const GossipKeySchema = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/,
    "a gossip encryption key is 32 bytes in base64 (44 characters); make one with `dkron keygen`",
  );

/** The body of POST, PUT and DELETE /v1/keys. */
export const KeyRequestSchema = z.object({ key: GossipKeySchema }).strict();

/** The replicated keyring: installed keys, the primary (the one that encrypts) first. */
export const GossipKeyringSchema = z.array(GossipKeySchema).min(1).max(MAX_GOSSIP_KEYS);
/** Installed keys, primary first. */
export type GossipKeyring = z.infer<typeof GossipKeyringSchema>;

/** Serf's keyring operations: install adds a key, use makes one primary, remove drops a non-primary one. */
export type KeyringOp = "install" | "use" | "remove";

/**
 * The keyring after `op` on `key`. `current` is the replicated keyring, or null before the first
 * operation, when `seed` (the proposing leader's keyring from `--encrypt`) is where it starts. Throws
 * a typed AppError for Serf's refusals: encryption off, use or remove of a key not installed, remove
 * of the primary, too many keys. Installing an installed key changes nothing.
 */
export function keyringAfter(
  current: GossipKeyring | null,
  seed: readonly string[],
  op: KeyringOp,
  key: string,
): GossipKeyring {
  const keys = [...(current ?? seed)];
  if (keys.length === 0)
    throw new AppError(
      "CONFLICT",
      "gossip encryption is off (no --encrypt key); a plain-text pool has no keyring to rotate",
    );
  const i = keys.indexOf(key);
  switch (op) {
    case "install":
      if (i >= 0) return keys;
      if (keys.length >= MAX_GOSSIP_KEYS)
        throw new AppError("CONFLICT", `at most ${MAX_GOSSIP_KEYS} keys can be installed; remove one first`, {
          field: "key",
        });
      return [...keys, key];
    case "use":
      if (i < 0)
        throw new AppError("NOT_FOUND", "that key is not installed; run `dkron keys install KEY` first", {
          field: "key",
        });
      return [key, ...keys.filter((k) => k !== key)];
    case "remove":
      if (i < 0) throw new AppError("NOT_FOUND", "that key is not installed", { field: "key" });
      if (i === 0)
        throw new AppError(
          "CONFLICT",
          "the primary key cannot be removed; `dkron keys use` another key first",
          { field: "key" },
        );
      return keys.filter((k) => k !== key);
  }
}

/** One installed key as GET /v1/keys shows it (admin scope: the key itself, as Serf's `keys list`). */
export interface GossipKeyJson {
  key: string;
  /** First 8 hex digits of the key's SHA-256: what members advertise, and what logs show. */
  fingerprint: string;
  primary: boolean;
  /** Live gossip members (alive or suspect) whose meta says they hold this key. */
  members: number;
  /**
   * Live members encrypting with it (it is the first key their meta lists): after `use NEW`, wait for
   * this to reach `total` before `remove OLD`, or a member still sealing with OLD goes unheard.
   */
  encrypting: number;
  /** Live members that do not hold it (names), so a straggler is easy to find. */
  missing: string[];
}

/** GET /v1/keys. */
export interface KeyringListJson {
  /** Whether this pool encrypts at all (false: no --encrypt anywhere, nothing to rotate). */
  encrypted: boolean;
  /** Where the installed keys come from: the replicated keyring, or the node's --encrypt flags before any operation. */
  source: "raft" | "flags" | "none";
  /** Live gossip members this node sees (alive or suspect), this one included. */
  total: number;
  keys: GossipKeyJson[];
}
