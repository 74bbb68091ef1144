/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { Layout } from "../layout";

/** The sign-in page: one field for an API token. */
export function SignInPage(p: {
  csrf: string;
  error?: string;
  notice?: string;
  /** Why sign-in cannot work from here (plain HTTP to a remote host). */
  warning?: string;
  next?: string;
}) {
  return (
    <Layout title="Sign in" csrf={p.csrf}>
      <div class="center-box panel">
        <h1>Sign in</h1>
        <p class="muted">
          Paste a REST API token. The first start of a control node wrote an admin token to{" "}
          <code>&lt;data-dir&gt;/admin-token</code>; <code>dkron token create</code> makes more (a read-only
          token sees no action buttons).
        </p>
        {p.warning ? (
          <p class="form-error" role="alert" data-insecure>
            Sign-in will not work here: {p.warning}.
          </p>
        ) : null}
        {p.notice ? (
          <p class="form-error" role="status">
            {p.notice}
          </p>
        ) : null}
        <form method="post" action="/ui/sign-in">
          <input type="hidden" name="_csrf" value={p.csrf} />
          <input type="hidden" name="next" value={p.next ?? "/ui"} />
          <div class="field" data-field="token" data-invalid={p.error ? "" : undefined}>
            <label for="token">API token</label>
            <input
              id="token"
              name="token"
              type="password"
              autocomplete="off"
              required
              placeholder="dkt.…"
              aria-describedby="token-error"
            />
            <div class="error" id="token-error" role="alert">
              {p.error ?? ""}
            </div>
          </div>
          <button type="submit" class="primary">
            Sign in
          </button>
        </form>
        <p class="note">
          The token is kept in an HttpOnly, Secure, SameSite=Strict cookie for this dashboard only; sign out
          forgets it.
        </p>
      </div>
    </Layout>
  );
}
