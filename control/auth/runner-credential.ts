import { parseRunnerCredential } from "../../shared";
import { runnerByCredential, type StateDb } from "../store";
import { secretMatches } from "./token-secret";

/** Who a runner credential belongs to: the registered name and the tags its join token gave it. */
export interface RunnerIdentity {
  name: string;
  tags: Record<string, string>;
}

/**
 * The runner a presented `drc.<id>.<secret>` credential belongs to, or undefined when it is not
 * one, unknown, revoked (its row is gone) or the secret does not match (compared in constant time).
 */
export function verifyRunnerCredential(s: StateDb, presented: string): RunnerIdentity | undefined {
  const parsed = parseRunnerCredential(presented);
  if (!parsed) return undefined;
  const row = runnerByCredential(s, parsed.id);
  if (!row || !secretMatches(parsed.secret, row.hash)) return undefined;
  return { name: row.name, tags: JSON.parse(row.tags) as Record<string, string> };
}
