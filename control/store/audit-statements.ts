import { lt, sql } from "drizzle-orm";
import { audit } from "./schema";
import type { StateDb } from "./state-db";

const ph = (name: string) => sql.placeholder(name);

/**
 * The audit log's per-entry queries, prepared once per database: every audited write's apply runs
 * both on every node, and building the SQL and `prepare` cost more than running them (half the apply
 * of a job put before they were prepared, bench/cluster-throughput.ts).
 */
function prepareAudit(s: StateDb) {
  return {
    /** One record; nothing when the entry's record is already there. */
    insert: s.db
      .insert(audit)
      .values({
        index: ph("index"),
        seq: 0,
        at: ph("at"),
        tokenId: ph("tokenId"),
        tokenName: ph("tokenName"),
        action: ph("action"),
        target: ph("target"),
        client: ph("client"),
        outcome: ph("outcome"),
        detail: ph("detail"),
      })
      .onConflictDoNothing()
      .prepare(),
    /** Drops the records older than `before` (audit_at_idx makes it a range seek). */
    prune: s.db
      .delete(audit)
      .where(lt(audit.at, ph("before")))
      .prepare(),
  };
}

const cache = new WeakMap<StateDb, ReturnType<typeof prepareAudit>>();

/** The prepared audit queries of `s`, built on first use. */
export function auditStatements(s: StateDb): ReturnType<typeof prepareAudit> {
  let st = cache.get(s);
  if (!st) {
    st = prepareAudit(s);
    cache.set(s, st);
  }
  return st;
}
