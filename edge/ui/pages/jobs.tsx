/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { grants, type JobJson, type RecentRunJson, type SelfJson } from "../../../shared";
import { Sparkline } from "../components";
import { latest, parseApiTime, relativeTime } from "../format";
import type { JobsQuery } from "../jobs-query";
import { Badge, Csrf, Layout } from "../layout";

/** Sortable columns of the list (the API's `_sort` fields). */
const SORTS = [
  ["name", "Name"],
  ["next", "Next run"],
  ["last_success", "Last success"],
  ["last_error", "Last error"],
  ["success_count", "Successes"],
  ["error_count", "Errors"],
  ["schedule", "Schedule"],
] as const;

/** The jobs list: server-side filters, sort and pages; bulk run, enable, disable. */
export function JobsPage(p: {
  csrf: string;
  self: SelfJson;
  q: JobsQuery;
  total: number;
  jobs: JobJson[];
  recent: Record<string, RecentRunJson[]>;
  now: number;
  notice?: string | undefined;
}) {
  const { q } = p;
  const canWrite = grants(p.self.scopes, "write");
  const canRun = grants(p.self.scopes, "run");
  const pages = Math.max(1, Math.ceil(p.total / q.size));
  const link = (over: Partial<JobsQuery>) => `/ui/jobs?${q.with(over)}`;
  const sortLink = (field: string, label: string) => {
    const on = q.sort === field;
    const order = on && q.order === "ASC" ? "DESC" : "ASC";
    return (
      <a href={link({ sort: field, order, page: 1 })}>
        {label}
        {on ? (q.order === "ASC" ? " ▲" : " ▼") : ""}
      </a>
    );
  };
  return (
    <Layout title="Jobs" active="jobs" csrf={p.csrf} self={p.self}>
      <h1>
        Jobs <span class="sub">{p.total.toLocaleString("en-US")} matching</span>
        {canWrite ? (
          <a class="btn primary" href="/ui/jobs/new" style="margin-left:auto">
            New job
          </a>
        ) : null}
      </h1>
      {p.notice ? (
        <p class="panel" role="status">
          {p.notice}
        </p>
      ) : null}
      <section class="panel" aria-label="Filters">
        <form class="filters" method="get" action="/ui/jobs">
          <div>
            <label for="f-q">Search</label>
            <input id="f-q" type="search" name="q" value={q.q} placeholder="name or display name" />
          </div>
          <div>
            <label for="f-status">Status</label>
            <select id="f-status" name="status">
              {["", "success", "failed", "partially_failed", "untriggered"].map((s) => (
                <option value={s} selected={q.status === s}>
                  {s === "" ? "any" : s.replace("_", " ")}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label for="f-disabled">Enabled</label>
            <select id="f-disabled" name="disabled">
              <option value="" selected={q.disabled === ""}>
                any
              </option>
              <option value="false" selected={q.disabled === "false"}>
                enabled
              </option>
              <option value="true" selected={q.disabled === "true"}>
                disabled
              </option>
            </select>
          </div>
          <div>
            <label for="f-owner">Owner</label>
            <input id="f-owner" type="text" name="owner" value={q.owner} />
          </div>
          <div>
            <label for="f-tag">Tag</label>
            <input id="f-tag" type="text" name="tag" value={q.tag} placeholder="role=web" />
          </div>
          <div>
            <label for="f-meta">Metadata</label>
            <input id="f-meta" type="text" name="meta" value={q.meta} placeholder="team=data" />
          </div>
          <div>
            <label for="f-sort">Sort</label>
            <select id="f-sort" name="sort">
              {SORTS.map(([v, l]) => (
                <option value={v} selected={q.sort === v}>
                  {l}
                </option>
              ))}
            </select>
          </div>
          <div class="actions">
            <button type="submit" class="primary">
              Apply
            </button>
            <a class="btn" href="/ui/jobs">
              Reset
            </a>
          </div>
        </form>
      </section>
      <section class="panel flush">
        <form method="post" action="/ui/jobs/bulk">
          <Csrf token={p.csrf} />
          <input type="hidden" name="back" value={link({})} />
          {canWrite || canRun ? (
            <div class="bulk">
              <span class="muted">With selected:</span>
              {canRun ? (
                <button type="submit" name="action" value="run" data-bulk>
                  Run now
                </button>
              ) : null}
              {canWrite ? (
                <button type="submit" name="action" value="enable" data-bulk>
                  Enable
                </button>
              ) : null}
              {canWrite ? (
                <button type="submit" name="action" value="disable" data-bulk>
                  Disable
                </button>
              ) : null}
              <span id="selected-count" class="note" aria-live="polite" />
            </div>
          ) : null}
          <div class="table-wrap">
            <table>
              <caption class="sr-only">
                Jobs, page {q.page} of {pages}
              </caption>
              <thead>
                <tr>
                  {canWrite || canRun ? (
                    <th>
                      <input type="checkbox" id="select-all" aria-label="Select all jobs on this page" />
                    </th>
                  ) : null}
                  <th>{sortLink("name", "Name")}</th>
                  <th>Status</th>
                  <th class="hide-sm">{sortLink("schedule", "Schedule")}</th>
                  <th>Last run</th>
                  <th>{sortLink("next", "Next run")}</th>
                  <th class="num">{sortLink("success_count", "OK")}</th>
                  <th class="num">{sortLink("error_count", "Err")}</th>
                  <th class="hide-sm">Recent runs</th>
                </tr>
              </thead>
              <tbody>
                {p.jobs.length === 0 ? (
                  <tr>
                    <td colspan={9} class="muted">
                      No jobs match. {canWrite ? <a href="/ui/jobs/new">Create one</a> : null}
                    </td>
                  </tr>
                ) : (
                  p.jobs.map((j) => {
                    const next = parseApiTime(j.next);
                    const last = latest(j.last_success, j.last_error);
                    return (
                      <tr>
                        {canWrite || canRun ? (
                          <td>
                            <input
                              type="checkbox"
                              name="names"
                              value={j.name}
                              aria-label={`Select ${j.name}`}
                            />
                          </td>
                        ) : null}
                        <td>
                          <a href={`/ui/jobs/${encodeURIComponent(j.name)}`}>{j.name}</a>
                          {j.displayname ? <div class="note">{j.displayname}</div> : null}
                        </td>
                        <td>{j.disabled ? <Badge state="disabled" /> : <Badge state={j.status} />}</td>
                        <td class="hide-sm">
                          <code>{j.schedule || (j.parent_job ? `after ${j.parent_job}` : "—")}</code>
                        </td>
                        <td class="nowrap">{relativeTime(last, p.now)}</td>
                        <td class="nowrap">
                          {next === null || j.disabled ? "—" : relativeTime(next, p.now)}
                        </td>
                        <td class="num">{j.success_count}</td>
                        <td class="num">{j.error_count}</td>
                        <td class="hide-sm">
                          <Sparkline runs={p.recent[j.name]} />
                        </td>
                      </tr>
                    );
                  })
                )}
              </tbody>
            </table>
          </div>
        </form>
        <nav class="pager" aria-label="Pages">
          <span>
            Page {q.page} of {pages} · {q.size} per page
          </span>
          <span class="actions">
            {q.page > 1 ? (
              <a class="btn" href={link({ page: q.page - 1 })} rel="prev">
                ← Previous
              </a>
            ) : null}
            {q.page < pages ? (
              <a class="btn" href={link({ page: q.page + 1 })} rel="next">
                Next →
              </a>
            ) : null}
          </span>
        </nav>
      </section>
    </Layout>
  );
}
