import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../shared";
import type { Consensus } from "../consensus";
import { authBootstrapped, type StateDb } from "../store";
import { mintToken } from "./token-secret";

/** The file, in the data dir, holding the first start's admin token (mode 0600). */
export const ADMIN_TOKEN_FILE = "admin-token";

/** What the first start's admin token needs. */
export interface BootstrapDeps {
  state: StateDb;
  consensus: Pick<Consensus, "propose">;
  /** Random strings for the token's id and secret. */
  secret: () => string;
  now: () => number;
  dataDir: string;
  logger: Logger;
  /** Shows the token to whoever started the node (stderr), once. */
  announce: (text: string) => void;
}

/**
 * On a new cluster's first leader: creates an admin token, writes it to `<data-dir>/admin-token`
 * (0600) and shows it once. The log entry refuses a second bootstrap, so a cluster makes exactly
 * one however many leaders try; a token revoked later is not made again.
 */
export async function bootstrapAdminToken(d: BootstrapDeps): Promise<void> {
  if (authBootstrapped(d.state)) return;
  const { id, token, hash } = mintToken(d.secret);
  const res = await d.consensus.propose({
    type: "token.create",
    at: d.now(),
    id,
    name: "admin",
    hash,
    scopes: ["admin"],
    prefix: "",
    expiresAt: null,
    createdBy: "bootstrap",
    bootstrap: true,
  });
  if (!res.ok) return; // another leader made it first
  const file = join(d.dataDir, ADMIN_TOKEN_FILE);
  try {
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
  } catch (e) {
    d.logger.error("could not write the admin token file; the token is shown once on stderr only", {
      file,
      err: (e as Error).message,
    });
  }
  d.logger.info("created the first admin token", { token_id: id, file });
  d.announce(
    [
      "dkron: created the first admin token (shown once; also in the file below, mode 0600):",
      `  ${token}`,
      `  file: ${file}`,
      "  use it as: export DKRON_TOKEN=$(cat " + file + ')  or  -H "Authorization: Bearer $DKRON_TOKEN"',
    ].join("\n"),
  );
}
