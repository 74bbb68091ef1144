import type { ControlParamsOf, JobJson } from "../../shared";
import { AppError } from "../../shared";

/** Dkron's sortable job fields (`id` maps to name). */
const SORTS = [
  "name",
  "displayname",
  "schedule",
  "success_count",
  "error_count",
  "skipped_count",
  "last_success",
  "last_error",
  "next",
] as const;

/**
 * Filters, sorts and slices jobs as Dkron's GET /v1/jobs does; returns the total after filtering.
 * An unknown sort field or start > end is a 400 (Dkron answers 500 or panics).
 */
export function queryJobs(
  all: JobJson[],
  q: ControlParamsOf<"jobs.list">,
): { total: number; items: JobJson[] } {
  const sort = q.sort === "id" ? "name" : q.sort;
  if (!(SORTS as readonly string[]).includes(sort)) {
    throw new AppError(
      "VALIDATION",
      `_sort: unknown field "${q.sort}" (use one of id, ${SORTS.join(", ")})`,
      { field: "_sort" },
    );
  }
  let list = all.filter((j) => {
    if (q.q && !j.name.includes(q.q) && !j.displayname.includes(q.q)) return false;
    if (q.status !== undefined && j.status !== (q.status === "untriggered" ? "" : q.status)) return false;
    if (q.disabled !== undefined && String(j.disabled) !== q.disabled) return false;
    for (const [k, v] of Object.entries(q.metadata ?? {})) if (j.metadata?.[k] !== v) return false;
    return true;
  });
  const key = sort as (typeof SORTS)[number];
  const dir = q.order === "DESC" ? -1 : 1;
  list = list.sort((a, b) => {
    const x = a[key] ?? "";
    const y = b[key] ?? "";
    const c = x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    return c * dir;
  });
  const total = list.length;
  const end = Math.min(q.end ?? total, total);
  if (q.start > end && q.start < total) {
    throw new AppError("VALIDATION", `_start: ${q.start} is after _end ${end}`, { field: "_start" });
  }
  return { total, items: list.slice(q.start, end) };
}
