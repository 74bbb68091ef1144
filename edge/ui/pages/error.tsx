/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { SelfJson } from "../../../shared";
import { Layout } from "../layout";

/** What went wrong, in words an operator can act on. */
export function ErrorPage(p: {
  csrf: string;
  self?: SelfJson | undefined;
  status: number;
  code: string;
  message: string;
}) {
  const hint =
    p.code === "FORBIDDEN"
      ? "Your token does not allow this. Ask an admin for a token with the scope named above (dkron token create --scopes …), then sign in with it."
      : p.code === "UNAUTHORIZED"
        ? "Your token is unknown, revoked or expired. Sign in again with a valid token."
        : p.code === "NOT_FOUND"
          ? "It may have been deleted, or the name is mistyped."
          : p.code === "NO_QUORUM" || p.code === "UNAVAILABLE"
            ? "The control cluster cannot answer right now (no leader or unreachable). It retries by itself; reload in a few seconds."
            : "";
  return (
    <Layout title={`${p.status} ${p.code}`} csrf={p.csrf} self={p.self}>
      <div class="panel" role="alert">
        <h1>
          {p.status === 403 ? "Not allowed" : p.status === 404 ? "Not found" : "Something went wrong"}{" "}
          <span class="sub">
            {p.status} · {p.code}
          </span>
        </h1>
        <p>{p.message}</p>
        {hint ? <p class="muted">{hint}</p> : null}
        <p class="actions">
          <a class="btn" href="/ui">
            Overview
          </a>
          {p.code === "UNAUTHORIZED" || p.code === "FORBIDDEN" ? (
            <a class="btn" href="/ui/sign-in">
              Sign in with another token
            </a>
          ) : null}
        </p>
      </div>
    </Layout>
  );
}
