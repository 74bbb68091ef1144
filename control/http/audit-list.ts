import { and, count, desc, eq, gte, lt, type SQL } from "drizzle-orm";
import type { AuditEntryJson, ControlParamsOf, ControlResults } from "../../shared";
import { audit, type StateDb } from "../store";

/** GET /v1/audit: newest first, filtered in SQL on the indexed columns, paged. */
export function listAudit(s: StateDb, p: ControlParamsOf<"audit.list">): ControlResults["audit.list"] {
  const where: SQL[] = [];
  if (p.target !== undefined) where.push(eq(audit.target, p.target));
  if (p.token !== undefined) where.push(eq(audit.tokenId, p.token));
  if (p.action !== undefined) where.push(eq(audit.action, p.action));
  if (p.since !== undefined) where.push(gte(audit.at, p.since));
  if (p.until !== undefined) where.push(lt(audit.at, p.until));
  const cond = where.length ? and(...where) : undefined;
  const total = s.db.select({ n: count() }).from(audit).where(cond).get()?.n ?? 0;
  // No _end: every row from _start on. SQLite takes no OFFSET without a LIMIT, and drizzle drops a
  // negative one (SQLite's "no limit"), which made ?_start=1 a syntax error; so "all" is the
  // largest limit a number can say.
  const limit = p.end === undefined ? Number.MAX_SAFE_INTEGER : Math.max(0, p.end - p.start);
  const rows = s.db
    .select()
    .from(audit)
    .where(cond)
    .orderBy(desc(audit.at), desc(audit.index), desc(audit.seq))
    .limit(limit)
    .offset(p.start)
    .all();
  const items: AuditEntryJson[] = rows.map((r) => ({
    id: r.seq ? `${r.index}.${r.seq}` : String(r.index),
    at: new Date(r.at).toISOString(),
    token_id: r.tokenId,
    token_name: r.tokenName,
    action: r.action,
    target: r.target,
    client: r.client,
    outcome: r.outcome,
    detail: r.detail,
  }));
  return { total, items };
}
