/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { SelfJson } from "../../../shared";
import type { FormField } from "../job-form-fields";
import { Csrf, Layout } from "../layout";

/** Create or edit a job: one input per schema field, errors inline, a live schedule preview. */
export function JobFormPage(p: {
  csrf: string;
  self: SelfJson;
  fields: FormField[];
  values: Record<string, string>;
  /** The job being edited (its name is fixed), or none for a new job. */
  editing?: string | undefined;
  error?: { field?: string | undefined; message: string } | undefined;
  preview: unknown;
}) {
  const action = p.editing ? `/ui/jobs/${encodeURIComponent(p.editing)}/edit` : "/ui/jobs/new";
  const fieldError = (name: string) => (p.error?.field === name ? p.error.message : undefined);
  const unplaced = p.error && !p.fields.some((f) => f.name === p.error?.field);
  const input = (f: FormField) => {
    const id = `job-${f.name}`;
    const err = fieldError(f.name);
    const describe = `${id}-hint ${id}-error`;
    const v = p.values[f.name] ?? "";
    const control =
      f.kind === "checkbox" ? (
        <label class="check" for={id}>
          <input
            id={id}
            type="checkbox"
            name={f.name}
            checked={v === "true" || v === "on"}
            aria-describedby={describe}
          />
          {f.label}
        </label>
      ) : f.kind === "select" ? (
        <select id={id} name={f.name} aria-describedby={describe}>
          {(f.options ?? []).map((o) => (
            <option value={o} selected={o === v}>
              {o === "" ? "(none)" : o}
            </option>
          ))}
        </select>
      ) : f.kind === "map" || f.kind === "json" ? (
        <textarea
          id={id}
          name={f.name}
          rows={f.kind === "json" ? 4 : 3}
          aria-describedby={describe}
          spellcheck={false}
        >
          {v}
        </textarea>
      ) : (
        <input
          id={id}
          name={f.name}
          type={f.kind === "number" ? "number" : "text"}
          value={v}
          readonly={f.name === "name" && p.editing !== undefined}
          required={f.name === "name"}
          autocomplete="off"
          spellcheck={false}
          aria-describedby={describe}
          aria-invalid={err ? "true" : undefined}
        />
      );
    return (
      <div class="field" data-field={f.name} data-invalid={err ? "" : undefined}>
        {f.kind === "checkbox" ? null : <label for={id}>{f.label}</label>}
        {control}
        <div class="hint" id={`${id}-hint`}>
          {f.hint}
        </div>
        <div class="error" id={`${id}-error`} role="alert" data-from={err ? "server" : undefined}>
          {err ?? ""}
        </div>
      </div>
    );
  };
  const first = [
    "name",
    "displayname",
    "schedule",
    "timezone",
    "dst",
    "executor",
    "executor_config",
    "disabled",
  ];
  const head = first.map((n) => p.fields.find((f) => f.name === n)).filter((f): f is FormField => !!f);
  const rest = p.fields.filter((f) => !first.includes(f.name));
  return (
    <Layout title={p.editing ? `Edit ${p.editing}` : "New job"} active="jobs" csrf={p.csrf} self={p.self}>
      <p class="note">
        <a href="/ui/jobs">Jobs</a> /{" "}
        {p.editing ? <a href={`/ui/jobs/${encodeURIComponent(p.editing)}`}>{p.editing}</a> : null}
      </p>
      <h1>{p.editing ? `Edit ${p.editing}` : "New job"}</h1>
      <form method="post" action={action} novalidate>
        <Csrf token={p.csrf} />
        {unplaced ? (
          <div class="form-error" role="alert">
            {p.error?.message}
          </div>
        ) : null}
        <div class="grid two">
          <section class="panel">{head.map(input)}</section>
          <section class="panel">
            <h2>Next runs as you type</h2>
            <div data-preview-url="/ui/preview" id="preview" style="height:440px;overflow:auto">
              {p.preview as never}
            </div>
          </section>
        </div>
        <details class="panel" open={rest.some((f) => fieldError(f.name)) || undefined}>
          <summary>
            <strong>More settings</strong>{" "}
            <span class="note">owner, tags, metadata, retries, concurrency, window, catch-up</span>
          </summary>
          <div class="form-grid" style="margin-top:12px">
            {rest.map(input)}
          </div>
        </details>
        <div class="actions">
          <button type="submit" class="primary">
            {p.editing ? "Save" : "Create job"}
          </button>
          <a class="btn" href={p.editing ? `/ui/jobs/${encodeURIComponent(p.editing)}` : "/ui/jobs"}>
            Cancel
          </a>
        </div>
      </form>
    </Layout>
  );
}
