import { isAppError } from "./errors";
import { nodeUrl } from "./host-port";

/** How many times a request follows NOT_LEADER to the address it names, unless told otherwise. */
export const DEFAULT_LEADER_HOPS = 3;

/** The leader a NOT_LEADER error names (its `details.leader`), or undefined for any other error. */
export function leaderOf(e: unknown): string | undefined {
  if (!isAppError(e) || e.code !== "NOT_LEADER") return undefined;
  const leader = e.details?.leader;
  return typeof leader === "string" && leader ? leader : undefined;
}

/**
 * Runs `attempt()` where the caller starts (target undefined) and, while it fails with NOT_LEADER
 * naming a leader, again at that leader's base URL, at most `maxHops` more times; then the last
 * error is thrown, as is any other error, or a NOT_LEADER that names no leader (none elected yet).
 * The edge's client, the control node's local client and the raft CLI all follow leaders this way.
 */
export async function followLeader<T>(
  attempt: (target: string | undefined) => Promise<T>,
  maxHops = DEFAULT_LEADER_HOPS,
): Promise<T> {
  let target: string | undefined;
  for (let hop = 0; ; hop++) {
    try {
      return await attempt(target);
    } catch (e) {
      const leader = leaderOf(e);
      if (leader === undefined || hop >= maxHops) throw e;
      target = nodeUrl(leader);
    }
  }
}
