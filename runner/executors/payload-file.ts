import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** A webhook payload written for a shell job; `remove` deletes it (and its private directory). */
export interface PayloadFile {
  path: string;
  remove(): Promise<void>;
}

/**
 * Writes a webhook payload to `<dir>/dkron-payload-XXXXXX/payload`: the directory is created 0700 by
 * mkdtemp and the file 0600, so other users on the host can neither read it nor swap it out.
 */
export async function writePayloadFile(payload: string, dir: string): Promise<PayloadFile> {
  const home = await mkdtemp(join(dir, "dkron-payload-"));
  const path = join(home, "payload");
  try {
    await writeFile(path, payload, { encoding: "utf8", mode: 0o600, flag: "wx" });
  } catch (e) {
    await rm(home, { recursive: true, force: true });
    throw e;
  }
  return { path, remove: () => rm(home, { recursive: true, force: true }) };
}
