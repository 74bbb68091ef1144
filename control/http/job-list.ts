import type { ControlParamsOf, JobJson } from "../../shared";
import { AppError } from "../../shared";
import {
  countJobs,
  fewestFirst,
  isJobSort,
  JOB_SORTS,
  type JobFilter,
  type JobSort,
  overdueJobs,
  pageJobs,
  qMatches,
  type StateDb,
  type StoredJob,
} from "../store";

/** Up to this many `q` matches, finding them once and testing by name beats a scan in sort order. */
const Q_BY_NAME = 2000;

/** What listing needs besides the query: the state, one instant for the page, and how jobs render. */
export interface JobListDeps {
  state: StateDb;
  now: number;
  /** The job as the API shows it (at `now`). */
  render: (j: StoredJob) => JobJson;
  /** The job's `next` at `now` (what render shows), for jobs due but not started yet. */
  nextOf: (j: StoredJob) => number | null;
  /** Up to how many jobs a `q` may match to be tested by name (default 2,000; tests vary it). */
  qByName?: number;
}

/**
 * Filters, sorts and slices jobs as Dkron's GET /v1/jobs does, in SQL: the filter and sort run on
 * indexed columns, only the page is read and rendered, and the total counts the same filter. `prefix`
 * limits the list to a token's jobs. An unknown sort field or start > end is a 400 (Dkron answers
 * 500 or panics).
 */
export function listJobs(
  d: JobListDeps,
  q: ControlParamsOf<"jobs.list">,
  prefix: string,
): { total: number; items: JobJson[] } {
  const sort = q.sort === "id" ? "name" : q.sort;
  if (!isJobSort(sort)) {
    throw new AppError(
      "VALIDATION",
      `_sort: unknown field "${q.sort}" (use one of id, ${JOB_SORTS.join(", ")})`,
      { field: "_sort" },
    );
  }
  const filter: JobFilter = {
    prefix,
    q: q.q,
    status: q.status === undefined ? undefined : q.status === "untriggered" ? "" : q.status,
    disabled: q.disabled === undefined ? undefined : q.disabled === "true",
    metadata: fewestFirst(d.state, "job_metadata", q.metadata),
    owner: q.owner,
    // A metadata entry drives when there is one (see where), so the tags' order is then left as is.
    tags:
      q.metadata && Object.keys(q.metadata).length
        ? Object.entries(q.tags ?? {})
        : fewestFirst(d.state, "job_tags", q.tags),
  };
  // A `q` matching few jobs is tested by name (the count and the page then read only those jobs);
  // one matching many is tested row by row, and the page's scan in sort order stops at the page.
  if (filter.q !== undefined) filter.qNames = qMatches(d.state, filter.q, d.qByName ?? Q_BY_NAME);
  const total = countJobs(d.state, filter);
  const end = Math.min(q.end ?? total, total);
  if (q.start > end && q.start < total) {
    throw new AppError("VALIDATION", `_start: ${q.start} is after _end ${end}`, { field: "_start" });
  }
  const limit = Math.max(0, end - q.start);
  const jobs =
    sort === "next"
      ? pageByNext(d, filter, q.order, q.start, limit, total)
      : pageJobs(d.state, filter, { sort, order: q.order, offset: q.start, limit });
  return { total, items: jobs.map(d.render) };
}

/**
 * A page sorted by `next`. SQL orders by next_fire, which is `next` for every job whose slot is
 * still ahead; the few jobs due right now and not started yet (overdue: next_fire <= now) show
 * their slot after now instead, so they are taken out, given their real `next`, and merged into the
 * page: the SQL window is widened by their count, which is all the page can shift by.
 */
function pageByNext(
  d: JobListDeps,
  filter: JobFilter,
  order: "ASC" | "DESC",
  start: number,
  limit: number,
  total: number,
): StoredJob[] {
  if (limit === 0) return [];
  const now = d.now;
  const overdue = overdueJobs(d.state, filter, now, total)
    .map((job) => ({ job, key: d.nextOf(job) }))
    .sort(compare(order));
  const k = overdue.length;
  const rest = { sort: "next" as JobSort, order, due: { overdue: false, now } };
  if (k === 0) return pageJobs(d.state, filter, { ...rest, offset: start, limit });
  const a0 = Math.max(0, start - k);
  const window = pageJobs(d.state, filter, { ...rest, offset: a0, limit: limit + k }).map((job) => ({
    job,
    key: job.nextFire,
  }));
  const cmp = compare(order);
  const full = window.length === limit + k;
  const restSize = total - k;
  const placed: { pos: number; job: StoredJob }[] = [];
  for (const [i, a] of window.entries()) {
    const before = overdue.filter((o) => cmp(o, a) < 0).length;
    placed.push({ pos: a0 + i + before, job: a.job });
  }
  const first = window[0];
  const last = window[window.length - 1];
  for (const [i, o] of overdue.entries()) {
    let rank: number;
    if (first && cmp(o, first) < 0) {
      // Before the window: only the very first page can hold it.
      if (a0 > 0) continue;
      rank = 0;
    } else if (last && cmp(o, last) < 0) rank = a0 + window.filter((a) => cmp(a, o) < 0).length;
    else if (full) continue;
    else rank = restSize;
    placed.push({ pos: i + rank, job: o.job });
  }
  return placed
    .filter((p) => p.pos >= start && p.pos < start + limit)
    .sort((x, y) => x.pos - y.pos)
    .map((p) => p.job);
}

/** Orders by `next` (none first), then name, both in the list's direction. */
function compare(order: "ASC" | "DESC") {
  const dir = order === "DESC" ? -1 : 1;
  return (a: { job: StoredJob; key: number | null }, b: { job: StoredJob; key: number | null }): number => {
    const x = a.key ?? Number.NEGATIVE_INFINITY;
    const y = b.key ?? Number.NEGATIVE_INFINITY;
    const an = a.job.spec.name;
    const bn = b.job.spec.name;
    const c = x < y ? -1 : x > y ? 1 : an < bn ? -1 : an > bn ? 1 : 0;
    return c * dir;
  };
}
