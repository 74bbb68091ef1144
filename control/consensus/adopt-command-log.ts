import type { Logger } from "../../shared";
import type { Command } from "../fsm";
import { apply, lastApplied } from "../fsm";
import type { LogStore } from "../raft";
import type { StateDb } from "../store";
import { dropLegacyCommandLog, readLegacyCommandLog, takeStateSnapshot } from "../store";

/**
 * Moves a data dir written by the one-node command log (single nodes before they ran as a one-voter
 * Raft group) onto raft.db: applies the logged entries not applied yet (each was acknowledged once it
 * was logged), then seeds raft.db with a snapshot of the state at last_applied, voters = this node,
 * and drops the log. openStateDb kept the log in `legacy_command_log` before the migration that drops
 * `command_log` (control/store/legacy-command-log.ts). Nothing happens for a new data dir, or one
 * whose raft.db holds anything. Returns the index the Raft log starts after.
 */
export function adoptCommandLog(state: StateDb, log: LogStore, self: string, logger: Logger): number {
  const stored = log.load();
  // Raft already owns this data dir: never seed (and so discard) a log that holds anything.
  if (stored.hardState.term !== 0 || stored.entries.length > 0 || stored.snapshot)
    return stored.logStart.index;
  const rows = readLegacyCommandLog(state.sqlite, lastApplied(state));
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
  // Only once the seed is durable: until then the log is the record of the tail (state.db may run
  // NORMAL, and a power cut can roll the applies above back), and a crash finds it on the next start.
  dropLegacyCommandLog(state.sqlite);
  logger.info("moved the one-node command log onto raft.db", { applied, replayed: rows.length });
  return applied;
}
