import { chmodSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { GossipKeyringSchema, type Logger } from "../../shared";
import type { PoolMember } from "./pool-member";

/** The file in a runner's data dir holding the last keyring its leader sent (mode 0600). */
export const KEYRING_FILE = "keyring.json";

const KeyringFileSchema = z.object({ version: z.literal(1), keys: GossipKeyringSchema }).strict();

/** The keyring saved in `dataDir` (primary first), or undefined when none was saved yet. */
export function readKeyringFile(dataDir: string): string[] | undefined {
  const path = join(dataDir, KEYRING_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  const r = KeyringFileSchema.safeParse(raw);
  if (!r.success) throw new Error(`${path} is not a gossip keyring: ${r.error.issues[0]?.message}`);
  return r.data.keys;
}

/** Saves a keyring to `dataDir`, readable by its owner only, atomically. */
export function writeKeyringFile(dataDir: string, keys: readonly string[]): void {
  const path = join(dataDir, KEYRING_FILE);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ version: 1, keys }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/**
 * The keys a runner's gossip member starts with: the saved keyring when there is one (after a
 * rotation the --encrypt key on its command line may be one the cluster has removed), else the flags.
 * A plain-text runner (no --encrypt) stays plain: the saved file cannot turn encryption on.
 */
export function startKeys(dataDir: string | undefined, flagKeys: readonly string[]): string[] {
  if (flagKeys.length === 0 || !dataDir) return [...flagKeys];
  return readKeyringFile(dataDir) ?? [...flagKeys];
}

/**
 * What a runner does with its leader's `keyring` frame: re-key its gossip member and save the keyring
 * to its data dir (when it has one), so a restart uses it. Pass the result as RunnerAgent's `onKeyring`.
 */
export function followKeyring(
  pool: PoolMember,
  o: { dataDir?: string | undefined; logger: Logger },
): (keys: string[]) => void {
  return (keys) => {
    if (!pool.setKeys(keys) || !o.dataDir) return;
    try {
      writeKeyringFile(o.dataDir, keys);
    } catch (e) {
      o.logger.warn("cannot save the gossip keyring", { err: String(e) });
    }
  };
}
