import { AppError, type ControlInput } from "../../shared";

/** Rows per page of the dashboard's jobs list. */
export const PAGE_SIZE = 25;

/** The jobs list's query string, parsed once: what the filter form shows and links keep. */
export interface JobsQuery {
  q: string;
  status: string;
  disabled: string;
  owner: string;
  /** `k=v` */
  tag: string;
  /** `k=v` */
  meta: string;
  sort: string;
  order: "ASC" | "DESC";
  page: number;
  size: number;
  /** This query with some fields changed, as a query string. */
  with(over: Partial<Omit<JobsQuery, "with">>): string;
}

const SORTS = new Set([
  "name",
  "next",
  "last_success",
  "last_error",
  "success_count",
  "error_count",
  "schedule",
]);

/** Reads the list's query string; a malformed filter is a VALIDATION error naming it. */
export function readJobsQuery(params: URLSearchParams): JobsQuery {
  const get = (k: string) => (params.get(k) ?? "").trim();
  const page = Number(get("page") || "1");
  const sort = get("sort") || "name";
  const base = {
    q: get("q"),
    status: get("status"),
    disabled: get("disabled") === "true" || get("disabled") === "false" ? get("disabled") : "",
    owner: get("owner"),
    tag: get("tag"),
    meta: get("meta"),
    sort: SORTS.has(sort) ? sort : "name",
    order: (get("order") === "DESC" ? "DESC" : "ASC") as "ASC" | "DESC",
    page: Number.isSafeInteger(page) && page >= 1 ? page : 1,
    size: PAGE_SIZE,
  };
  for (const f of ["tag", "meta"] as const) if (base[f]) pair(base[f], f);
  return {
    ...base,
    with(over) {
      const all = { ...base, ...over };
      const out = new URLSearchParams();
      for (const [k, v] of Object.entries(all)) {
        if (k === "size") continue;
        const dflt = k === "sort" ? "name" : k === "order" ? "ASC" : k === "page" ? 1 : "";
        if (v !== dflt && v !== "") out.set(k, String(v));
      }
      return out.toString();
    },
  };
}

/** `k=v` as a pair; anything else is a VALIDATION error naming the filter. */
function pair(text: string, field: string): [string, string] {
  const i = text.indexOf("=");
  if (i <= 0)
    throw new AppError("VALIDATION", `${field}: write the filter as key=value, got "${text}"`, { field });
  return [text.slice(0, i).trim(), text.slice(i + 1).trim()];
}

/** The control-api params for one page of the list. */
export function jobsListParams(q: JobsQuery): ControlInput<"jobs.list"> {
  const start = (q.page - 1) * q.size;
  return {
    sort: q.sort,
    order: q.order,
    start,
    end: start + q.size,
    ...(q.q ? { q: q.q } : {}),
    ...(q.status ? { status: q.status } : {}),
    ...(q.disabled ? { disabled: q.disabled as "true" | "false" } : {}),
    ...(q.owner ? { owner: q.owner } : {}),
    ...(q.tag ? { tags: Object.fromEntries([pair(q.tag, "tag")]) } : {}),
    ...(q.meta ? { metadata: Object.fromEntries([pair(q.meta, "meta")]) } : {}),
  };
}
