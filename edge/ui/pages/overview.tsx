/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { OverviewJson, SelfJson } from "../../../shared";
import { Heatmap, HourChart } from "../components";
import { relativeTime } from "../format";
import { Badge, Layout } from "../layout";

/** Is everything running, and what went wrong: counts, the last day, the next day. */
export function OverviewPage(p: { csrf: string; self: SelfJson; o: OverviewJson; now: number }) {
  const { o } = p;
  const card = (label: string, value: number, cls = "", href?: string) => (
    <div class={`card ${value > 0 ? cls : ""}`}>
      <div class="label">{label}</div>
      <div class="value">{href ? <a href={href}>{value}</a> : value}</div>
    </div>
  );
  return (
    <Layout title="Overview" active="overview" csrf={p.csrf} self={p.self} scripts={["/ui/assets/uplot.js"]}>
      <link rel="stylesheet" href="/ui/assets/uplot.css" />
      <h1>
        Overview <span class="sub">as of {relativeTime(Date.parse(o.at), p.now)}</span>
      </h1>
      <section class="grid cards" aria-label="Jobs by status">
        {card("Jobs", o.jobs.total, "", "/ui/jobs")}
        {card("Succeeded", o.jobs.by_status.success, "ok", "/ui/jobs?status=success")}
        {card("Failed", o.jobs.by_status.failed, "bad", "/ui/jobs?status=failed")}
        {card("Partly failed", o.jobs.by_status.partially_failed, "bad", "/ui/jobs?status=partially_failed")}
        {card("Never run", o.jobs.by_status.untriggered, "", "/ui/jobs?status=untriggered")}
        {card("Disabled", o.jobs.disabled, "warn", "/ui/jobs?disabled=true")}
        {card("Running now", o.running, "", "/ui/cluster#busy")}
        {card("Failures, 24 h", o.failures_24h, "bad")}
      </section>
      <div class="grid two">
        <section class="panel">
          <h2>Executions per hour, last 24 h</h2>
          <HourChart rows={o.per_hour} />
        </section>
        <section class="panel flush">
          <h2>Recent failures</h2>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Job</th>
                  <th>State</th>
                  <th class="hide-sm">Node</th>
                  <th>When</th>
                </tr>
              </thead>
              <tbody>
                {o.recent_failures.length === 0 ? (
                  <tr>
                    <td colspan={4} class="muted">
                      No failures in the last 24 hours.
                    </td>
                  </tr>
                ) : (
                  o.recent_failures.map((f) => (
                    <tr>
                      <td>
                        <a
                          href={`/ui/jobs/${encodeURIComponent(f.job)}/executions/${encodeURIComponent(f.id)}`}
                        >
                          {f.job}
                        </a>
                      </td>
                      <td>
                        <Badge state={f.state} />
                        {f.exit_code !== null ? <span class="note"> exit {f.exit_code}</span> : null}
                      </td>
                      <td class="hide-sm">{f.node}</td>
                      <td class="nowrap">{relativeTime(Date.parse(f.finished_at), p.now)}</td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </div>
        </section>
      </div>
      <section class="panel">
        <h2>Upcoming fires per minute, next 24 h</h2>
        <Heatmap
          from={Date.parse(o.heatmap.from)}
          minutes={o.heatmap.minutes}
          approximate={o.heatmap.approximate}
        />
      </section>
    </Layout>
  );
}
