/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { SCOPES, type SelfJson, type TokenJson } from "../../../shared";
import { parseApiTime, relativeTime } from "../format";
import { ActionButton, Csrf, Layout } from "../layout";

/** Admin: API tokens, a create form, and (once) the secret of the token just made. */
export function TokensPage(p: {
  csrf: string;
  self: SelfJson;
  tokens: TokenJson[];
  now: number;
  /** What the action that led here did (a fixed sentence). */
  notice?: string | undefined;
  created?: { name: string; token: string } | undefined;
  error?: { field?: string | undefined; message: string } | undefined;
  form?: Record<string, string>;
}) {
  const err = (f: string) =>
    p.error?.field === f || (f === "name" && !p.error?.field) ? p.error?.message : undefined;
  return (
    <Layout title="Tokens" active="tokens" csrf={p.csrf} self={p.self}>
      <h1>API tokens</h1>
      {p.notice && !p.created ? (
        <p class="panel" role="status">
          {p.notice}
        </p>
      ) : null}
      {p.created ? (
        <section class="panel" role="status" aria-live="polite">
          <h2>Token “{p.created.name}” created</h2>
          <p>Copy it now: it is shown this once and stored only as a hash.</p>
          <div class="secret" id="new-secret">
            {p.created.token}
          </div>
        </section>
      ) : null}
      <section class="panel">
        <h2>Create a token</h2>
        <form method="post" action="/ui/tokens" class="form-grid">
          <Csrf token={p.csrf} />
          <div class="field" data-invalid={err("name") ? "" : undefined}>
            <label for="t-name">Name</label>
            <input
              id="t-name"
              name="name"
              type="text"
              value={p.form?.name ?? ""}
              required
              aria-describedby="t-name-error"
            />
            <div class="error" id="t-name-error" role="alert">
              {err("name") ?? ""}
            </div>
          </div>
          <fieldset
            class="field"
            data-invalid={err("scopes") ? "" : undefined}
            style="border:0;padding:0;margin:0 0 14px"
          >
            <legend style="font-size:13px;font-weight:600;margin-bottom:4px">Scopes</legend>
            {SCOPES.map((s) => (
              <label class="check">
                <input type="checkbox" name="scopes" value={s} checked={s === "read"} /> {s}
              </label>
            ))}
            <div class="error" role="alert">
              {err("scopes") ?? ""}
            </div>
          </fieldset>
          <div class="field" data-invalid={err("prefix") ? "" : undefined}>
            <label for="t-prefix">Job prefix</label>
            <input
              id="t-prefix"
              name="prefix"
              type="text"
              value={p.form?.prefix ?? ""}
              aria-describedby="t-prefix-hint"
            />
            <div class="hint" id="t-prefix-hint">
              limit the token to jobs whose name starts with this (not for admin)
            </div>
            <div class="error" role="alert">
              {err("prefix") ?? ""}
            </div>
          </div>
          <div class="field" data-invalid={err("expires_in") ? "" : undefined}>
            <label for="t-exp">Expires in</label>
            <input
              id="t-exp"
              name="expires_in"
              type="text"
              value={p.form?.expires_in ?? ""}
              placeholder="720h"
            />
            <div class="hint">a duration such as 24h or 720h; empty = until revoked</div>
            <div class="error" role="alert">
              {err("expires_in") ?? ""}
            </div>
          </div>
          <div class="actions">
            <button type="submit" class="primary">
              Create token
            </button>
          </div>
        </form>
      </section>
      <section class="panel flush">
        <h2>Tokens</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Scopes</th>
                <th>Prefix</th>
                <th class="hide-sm">Created</th>
                <th>Last used</th>
                <th>Expires</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {p.tokens.map((t) => (
                <tr>
                  <td>
                    <strong>{t.name}</strong>
                    <div class="note mono">{t.id}</div>
                  </td>
                  <td>{t.scopes.join(", ")}</td>
                  <td>{t.prefix ? <code>{t.prefix}</code> : "all jobs"}</td>
                  <td class="nowrap hide-sm">{relativeTime(parseApiTime(t.created_at), p.now)}</td>
                  <td class="nowrap">{relativeTime(parseApiTime(t.last_used_at), p.now)}</td>
                  <td class="nowrap">
                    {t.expires_at ? relativeTime(parseApiTime(t.expires_at), p.now) : "never"}
                  </td>
                  <td>
                    <a class="btn danger" href={`/ui/tokens/${encodeURIComponent(t.id)}/revoke`}>
                      Revoke
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </Layout>
  );
}

/** A confirmation before something that cannot be undone (delete a job, revoke a token...). */
export function ConfirmPage(p: {
  csrf: string;
  self: SelfJson;
  title: string;
  text: string;
  action: string;
  button: string;
  back: string;
  active?: "jobs" | "tokens" | "webhooks";
}) {
  return (
    <Layout title={p.title} active={p.active} csrf={p.csrf} self={p.self}>
      <div class="center-box panel" role="alertdialog" aria-labelledby="confirm-title">
        <h1 id="confirm-title">{p.title}</h1>
        <p>{p.text}</p>
        <div class="actions">
          <ActionButton action={p.action} csrf={p.csrf} label={p.button} kind="danger" />
          <a class="btn" href={p.back}>
            Cancel
          </a>
        </div>
      </div>
    </Layout>
  );
}
