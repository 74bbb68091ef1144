/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { ExecutionJson, SelfJson } from "../../../shared";
import { formatDuration, parseApiTime, utcText } from "../format";
import { Layout } from "../layout";

/** One execution: when, where, how it ended, and its full output (a live tail while it runs). */
export function ExecutionPage(p: {
  csrf: string;
  self: SelfJson;
  e: ExecutionJson;
  now: number;
  /** For a running execution: the leader's kept tail and its absolute offset (where the live tail starts). */
  live?: { text: string; offset: number; skipped: number };
}) {
  const { e } = p;
  const job = `/ui/jobs/${encodeURIComponent(e.job_name)}`;
  const started = parseApiTime(e.started_at);
  const finished = parseApiTime(e.finished_at);
  const running = e.state === "running";
  return (
    <Layout title={`${e.job_name} · ${e.id}`} active="jobs" csrf={p.csrf} self={p.self}>
      <p class="note">
        <a href="/ui/jobs">Jobs</a> / <a href={job}>{e.job_name}</a> /
      </p>
      <h1>
        Execution <span class="mono sub">{e.id}</span>
        <span class={`badge ${e.state}`} data-exec-state>
          {e.state}
        </span>
      </h1>
      <section class="panel">
        <dl class="def">
          <dt>Scheduled for</dt>
          <dd>{utcText(parseApiTime(e.scheduled_at))}</dd>
          <dt>Started</dt>
          <dd>
            {utcText(started)}
            {e.start_lateness_ms !== null ? ` (${formatDuration(e.start_lateness_ms)} after its slot)` : ""}
          </dd>
          <dt>Finished</dt>
          <dd>{running ? "still running" : utcText(finished)}</dd>
          <dt>Duration</dt>
          <dd>
            {running && started !== null
              ? `${formatDuration(p.now - started)} so far`
              : started !== null && finished !== null
                ? formatDuration(finished - started)
                : "—"}
          </dd>
          <dt>Node</dt>
          <dd>{e.node_name || "—"}</dd>
          <dt>Attempt · trigger</dt>
          <dd>
            {e.attempt} · {e.trigger} (group {e.group})
          </dd>
          <dt>Exit code</dt>
          <dd>{e.exit_code ?? "—"}</dd>
        </dl>
      </section>
      <section class="panel">
        <h2>Output</h2>
        {running ? (
          <div
            data-tail-url={`${job}/executions/${encodeURIComponent(e.id)}/stream?from=${p.live?.offset ?? e.output.length}`}
            id="live-status"
            class="live-status"
            aria-live="polite"
          >
            live: connecting…
          </div>
        ) : (
          <div class="live-status">{e.output.length.toLocaleString("en-US")} characters</div>
        )}
        <pre class="log" id="log" tabindex={0} role="log" aria-label="Execution output">
          {p.live
            ? `${p.live.skipped ? `[the first ${p.live.skipped} characters are no longer kept]\n` : ""}${p.live.text}`
            : e.output}
        </pre>
      </section>
    </Layout>
  );
}
