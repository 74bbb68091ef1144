import { type JobSpec, parseTargetTags } from "../../shared";
import { jobTimes } from "../jobs";
import type { StateDb } from "./state-db";
import { statements } from "./statements";

/**
 * The version of the rules that fill the jobs table's index columns (displayname, owner, schedule,
 * disabled, next_fire, wake_at), job_metadata and job_tags. Rows written by an older build (or before
 * migration 0007; version 2 added owner and job_tags, migration 0008)
 * are below it and are refilled when the database is opened or a snapshot restored.
 */
export const INDEX_VERSION = 2;

/**
 * Rewrites the index columns and metadata rows of one job from its spec, anchor and cursor. Called
 * by apply after every change to a job's spec, in the same transaction: derived from replicated state
 * by a pure function, so every replica holds the same values.
 */
export function indexJob(s: StateDb, name: string, spec: JobSpec, anchor: number, cursor: number): void {
  const st = statements(s);
  const t = jobTimes(withDefaults(spec), anchor, cursor);
  st.jobSetIndex.run({
    name,
    displayname: spec.displayname,
    owner: spec.owner,
    schedule: spec.schedule,
    disabled: spec.disabled ? 1 : 0,
    nextFire: t.nextFire,
    wakeAt: t.wakeAt,
    version: INDEX_VERSION,
  });
  st.jobMetadataDelete.run({ job: name });
  for (const [key, value] of Object.entries(spec.metadata ?? {}))
    st.jobMetadataInsert.run({ job: name, key, value });
  st.jobTagsDelete.run({ job: name });
  for (const [key, value] of Object.entries(parseTargetTags(spec.tags).match))
    st.jobTagInsert.run({ job: name, key, value });
}

/**
 * Inserts a new job stamped `at` (anchor and cursor `at`) with its index columns and metadata rows,
 * as `indexJob` would fill them, in one insert: the job has no rows to rewrite yet.
 */
export function insertIndexedJob(s: StateDb, spec: JobSpec, specJson: string, at: number): void {
  const st = statements(s);
  const t = jobTimes(withDefaults(spec), at, at);
  st.jobInsertIndexed.run({
    name: spec.name,
    spec: specJson,
    parentJob: spec.parent_job,
    at,
    displayname: spec.displayname,
    owner: spec.owner,
    schedule: spec.schedule,
    disabled: spec.disabled ? 1 : 0,
    nextFire: t.nextFire,
    wakeAt: t.wakeAt,
    version: INDEX_VERSION,
  });
  for (const [key, value] of Object.entries(spec.metadata ?? {}))
    st.jobMetadataInsert.run({ job: spec.name, key, value });
  for (const [key, value] of Object.entries(parseTargetTags(spec.tags).match))
    st.jobTagInsert.run({ job: spec.name, key, value });
}

/** Rewrites a job's due times after its cursor moved (a start): its spec did not change. */
export function indexJobTimes(s: StateDb, name: string, spec: JobSpec, anchor: number, cursor: number): void {
  const t = jobTimes(withDefaults(spec), anchor, cursor);
  statements(s).jobSetTimes.run({ name, nextFire: t.nextFire, wakeAt: t.wakeAt });
}

/**
 * Fills the index of every row below INDEX_VERSION, in one transaction: what migration 0007 (SQL
 * only) cannot compute. Idempotent and derived from the rows alone, like a migration.
 */
export function backfillJobIndex(s: StateDb): number {
  const rows = s.sqlite
    .prepare("SELECT name, spec, anchor, cursor FROM jobs WHERE index_version < ?")
    .all(INDEX_VERSION) as { name: string; spec: string; anchor: number; cursor: number }[];
  if (rows.length === 0) return 0;
  s.sqlite.transaction(() => {
    for (const r of rows) indexJob(s, r.name, specOf(r.spec), r.anchor, r.cursor);
  })();
  return rows.length;
}

/** A stored spec with the defaults of fields added after it was written (see rows.ts). */
function specOf(json: string): JobSpec {
  const { warnings: _w, ...spec } = JSON.parse(json) as JobSpec & { warnings?: string[] };
  return spec;
}

/** The spec with the fields added after jobs were first stored defaulted (rows.ts LATER_SPEC_DEFAULTS). */
function withDefaults(spec: JobSpec): JobSpec {
  return spec.dst === undefined ? { ...spec, dst: "auto" } : spec;
}
