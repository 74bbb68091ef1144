/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { type ExecutionJson, grants, type JobJson, type PreviewEntry, type SelfJson } from "../../../shared";
import { KeyValues, NextRuns } from "../components";
import { formatDuration, parseApiTime, relativeTime, utcText } from "../format";
import { ActionButton, Badge, Layout } from "../layout";

/** The job's page: actions, definition, its next runs with DST marks, and its history. */
export function JobPage(p: {
  csrf: string;
  self: SelfJson;
  job: JobJson & { next_runs?: PreviewEntry[] };
  executions: ExecutionJson[];
  total: number;
  page: number;
  size: number;
  now: number;
  notice?: string | undefined;
}) {
  const j = p.job;
  const base = `/ui/jobs/${encodeURIComponent(j.name)}`;
  const canWrite = grants(p.self.scopes, "write");
  const canRun = grants(p.self.scopes, "run");
  const pages = Math.max(1, Math.ceil(p.total / p.size));
  const def: [string, unknown][] = [
    ["Display name", j.displayname],
    ["Schedule", j.schedule ? <code>{j.schedule}</code> : j.parent_job ? `runs after ${j.parent_job}` : "—"],
    ["Time zone", j.timezone || "UTC"],
    ["DST rule", j.dst],
    ["Executor", j.executor || "—"],
    ["Executor config", j.executor_config ? <KeyValues map={j.executor_config} /> : "—"],
    ["Target tags", j.tags ? <KeyValues map={j.tags} /> : "any node"],
    ["Metadata", j.metadata ? <KeyValues map={j.metadata} /> : "—"],
    ["Owner", j.owner ? `${j.owner}${j.owner_email ? ` <${j.owner_email}>` : ""}` : "—"],
    ["Concurrency", j.concurrency],
    ["Retries", j.retries],
    ["Catch-up", `${j.catchup} (deadline ${formatDuration(j.catchup_deadline)})`],
    ["Dependent jobs", j.dependent_jobs?.length ? j.dependent_jobs.join(", ") : "—"],
    ["Window", `${j.starts_at ?? "—"} → ${j.expires_at ?? "—"}`],
    ["Counts", `${j.success_count} ok · ${j.error_count} failed · ${j.skipped_count} skipped`],
    [
      "Start lateness",
      j.lateness
        ? `p50 ${formatDuration(j.lateness.p50_ms)} · p99 ${formatDuration(j.lateness.p99_ms)} (${j.lateness.samples} runs)`
        : "—",
    ],
  ];
  return (
    <Layout title={j.name} active="jobs" csrf={p.csrf} self={p.self}>
      <p class="note">
        <a href="/ui/jobs">Jobs</a> /
      </p>
      <h1>
        {j.name} {j.disabled ? <Badge state="disabled" /> : <Badge state={j.status} />}
        <span class="actions" style="margin-left:auto">
          {canRun ? (
            <ActionButton action={`${base}/run`} csrf={p.csrf} label="Run now" kind="primary" />
          ) : null}
          {canWrite ? (
            <ActionButton action={`${base}/toggle`} csrf={p.csrf} label={j.disabled ? "Enable" : "Disable"} />
          ) : null}
          {canWrite ? (
            <a class="btn" href={`${base}/edit`}>
              Edit
            </a>
          ) : null}
          {canWrite ? (
            <a class="btn danger" href={`${base}/delete`}>
              Delete
            </a>
          ) : null}
        </span>
      </h1>
      {p.notice ? (
        <p class="panel" role="status">
          {p.notice}
        </p>
      ) : null}
      {j.warnings?.length ? (
        <div class="form-error" role="note">
          Stored with warnings: {j.warnings.join("; ")}
        </div>
      ) : null}
      <div class="grid two">
        <section class="panel">
          <h2>Definition</h2>
          <dl class="def">
            {def.map(([k, v]) => (
              <>
                <dt>{k}</dt>
                <dd>{v === "" ? "—" : (v as string)}</dd>
              </>
            ))}
          </dl>
        </section>
        <section class="panel flush">
          <h2>Next runs</h2>
          <NextRuns runs={j.next_runs ?? []} zone={j.timezone || "UTC"} />
        </section>
      </div>
      <section class="panel flush">
        <h2>
          Executions <span class="sub">{p.total} kept</span>
        </h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Started</th>
                <th>Status</th>
                <th class="num">Lateness</th>
                <th class="num">Duration</th>
                <th>Node</th>
                <th class="num hide-sm">Attempt</th>
                <th class="hide-sm">Trigger</th>
                <th class="hide-sm">Scheduled for</th>
              </tr>
            </thead>
            <tbody>
              {p.executions.length === 0 ? (
                <tr>
                  <td colspan={8} class="muted">
                    No executions yet.
                  </td>
                </tr>
              ) : (
                p.executions.map((e) => {
                  const started = parseApiTime(e.started_at);
                  const finished = parseApiTime(e.finished_at);
                  return (
                    <tr>
                      <td class="nowrap">
                        <a href={`${base}/executions/${encodeURIComponent(e.id)}`}>
                          {relativeTime(started, p.now)}
                        </a>
                      </td>
                      <td>
                        <Badge state={e.state} />
                        {e.exit_code !== null && e.state !== "success" ? (
                          <span class="note"> exit {e.exit_code}</span>
                        ) : null}
                      </td>
                      <td class="num">
                        {e.start_lateness_ms === null ? "—" : formatDuration(e.start_lateness_ms)}
                      </td>
                      <td class="num">
                        {e.state === "running" && started !== null
                          ? `${formatDuration(p.now - started)}…`
                          : started !== null && finished !== null
                            ? formatDuration(finished - started)
                            : "—"}
                      </td>
                      <td>{e.node_name || "—"}</td>
                      <td class="num hide-sm">{e.attempt}</td>
                      <td class="hide-sm">{e.trigger}</td>
                      <td class="nowrap hide-sm">{utcText(parseApiTime(e.scheduled_at))}</td>
                    </tr>
                  );
                })
              )}
            </tbody>
          </table>
        </div>
        <nav class="pager" aria-label="Execution pages">
          <span>
            Page {p.page} of {pages}
          </span>
          <span class="actions">
            {p.page > 1 ? (
              <a class="btn" href={`${base}?page=${p.page - 1}`}>
                ← Newer
              </a>
            ) : null}
            {p.page < pages ? (
              <a class="btn" href={`${base}?page=${p.page + 1}`}>
                Older →
              </a>
            ) : null}
          </span>
        </nav>
      </section>
    </Layout>
  );
}
