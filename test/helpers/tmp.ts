import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A temporary directory (under `base`, default the OS's temp dir) removed by the returned cleanup. */
export function tempDir(prefix = "dkron-test-", base = tmpdir()): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(base, prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
