import { asc, gt } from "drizzle-orm";
import type { Logger } from "../../shared/logger";
import { apply, lastApplied } from "../fsm/apply";
import type { Command } from "../fsm/commands";
import type { LogStore } from "../raft/log-store";
import type { StateDb } from "../store/db";
import { commandLog } from "../store/schema";
import { takeStateSnapshot } from "../store/snapshot";

/**
 * Moves a data dir written by the one-node command log (single nodes before they ran as a one-voter
 * Raft group) onto raft.db: applies the logged entries not applied yet (each was acknowledged once it
 * was logged), then seeds raft.db with a snapshot of the state at last_applied, voters = this node.
 * Nothing happens for a new data dir, or one whose raft.db holds anything. Returns the index the Raft
 * log starts after.
 */
export function adoptCommandLog(state: StateDb, log: LogStore, self: string, logger: Logger): number {
  const stored = log.load();
  // Raft already owns this data dir: never seed (and so discard) a log that holds anything.
  if (stored.hardState.term !== 0 || stored.entries.length > 0 || stored.snapshot)
    return stored.logStart.index;
  const rows = state.db
    .select()
    .from(commandLog)
    .where(gt(commandLog.index, lastApplied(state)))
    .orderBy(asc(commandLog.index))
    .all();
  for (const row of rows) apply(state, row.index, JSON.parse(row.command) as Command);
  const applied = lastApplied(state);
  if (applied === 0) return 0;
  const at = { index: applied, term: 1 };
  log.save({
    snapshot: {
      meta: { ...at, conf: { voters: [self], learners: [], autoPromote: [] } },
      data: takeStateSnapshot(state),
    },
    discardLog: true,
    compact: at,
    entries: [],
    hardState: { term: 1, vote: self, commit: applied },
    sync: true,
  });
  state.db.delete(commandLog).run();
  logger.info("moved the one-node command log onto raft.db", { applied, replayed: rows.length });
  return applied;
}
