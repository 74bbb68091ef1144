import { chmodSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GossipKeyringSchema, type Logger } from "../../shared";
import type { PoolMember } from "./pool-member";

/**
 * The file in a runner's data dir holding its gossip keyring (mode 0600): a JSON array of base64
 * keys, primary first, as Serf's keyring file. `join` writes it from --encrypt; every keyring its
 * leader sends after a rotation rewrites it.
 */
export const KEYRING_FILE = "keyring.json";

/** The keyring saved in `dataDir` (primary first), or undefined when none was saved. */
export function readKeyringFile(dataDir: string): string[] | undefined {
  const path = join(dataDir, KEYRING_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  const r = GossipKeyringSchema.safeParse(raw);
  if (!r.success) throw new Error(`${path} is not a gossip keyring: ${r.error.issues[0]?.message}`);
  return r.data;
}

/** Saves a keyring to `dataDir`, readable by its owner only, atomically. */
export function writeKeyringFile(dataDir: string, keys: readonly string[]): void {
  const path = join(dataDir, KEYRING_FILE);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/**
 * The keys a runner's gossip member starts with: the saved keyring when there is one, else the
 * --encrypt flags. The saved one wins because the cluster rotates it: after `keys remove A`, the
 * `--encrypt A` a service unit still passes names a key nobody accepts. A runner joined without
 * --encrypt has no keyring file, so it stays plain text.
 */
export function startKeys(dataDir: string | undefined, flagKeys: readonly string[]): string[] {
  const saved = dataDir ? readKeyringFile(dataDir) : undefined;
  return saved ?? [...flagKeys];
}

/**
 * What a runner does with its leader's `keyring` frame: re-key its gossip member and save the keyring
 * to its data dir (when it has one), so a restart uses it. Pass the result as RunnerAgent's `onKeyring`.
 */
export function followKeyring(
  pool: Pick<PoolMember, "setKeys">,
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
