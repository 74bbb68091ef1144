/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import { grants, type SelfJson } from "../../shared";
import { CSRF_FIELD } from "./session";

/** The dashboard's sections, in nav order; admin ones only for admin tokens. */
const NAV = [
  { id: "overview", href: "/ui", label: "Overview" },
  { id: "jobs", href: "/ui/jobs", label: "Jobs" },
  { id: "cluster", href: "/ui/cluster", label: "Cluster" },
  { id: "tokens", href: "/ui/tokens", label: "Tokens", admin: true },
  { id: "webhooks", href: "/ui/webhooks", label: "Webhooks" },
] as const;

/** What every page's frame needs. */
export interface PageFrame {
  title: string;
  active?: (typeof NAV)[number]["id"];
  self?: SelfJson | undefined;
  csrf: string;
  /** Scripts beyond app.js (uPlot on the overview). */
  scripts?: string[];
  children?: Child;
}

/** The HTML frame: header with navigation and the signed-in token, then the page. */
export function Layout(p: PageFrame) {
  const admin = p.self ? grants(p.self.scopes, "admin") : false;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{`${p.title} · dkron-ts`}</title>
        <link rel="stylesheet" href="/ui/assets/app.css" />
        <link rel="icon" href="data:," />
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <div class="top-inner">
            <a class="brand" href="/ui" aria-label="dkron-ts overview">
              <span class="mark" aria-hidden="true" />
              dkron-ts
            </a>
            {p.self ? (
              <nav class="main" aria-label="Main">
                {NAV.filter((n) => !("admin" in n) || admin).map((n) => (
                  <a href={n.href} aria-current={p.active === n.id ? "page" : undefined}>
                    {n.label}
                  </a>
                ))}
              </nav>
            ) : (
              <span style="flex:1" />
            )}
            {p.self ? (
              <div class="who">
                <span title={`scopes: ${p.self.scopes.join(", ")}`}>
                  {p.self.auth ? p.self.name : "auth off"} · {p.self.scopes.join(",")}
                  {p.self.prefix ? ` · ${p.self.prefix}*` : ""}
                </span>
                {p.self.auth ? (
                  <form method="post" action="/ui/sign-out">
                    <Csrf token={p.csrf} />
                    <button type="submit">Sign out</button>
                  </form>
                ) : null}
              </div>
            ) : null}
          </div>
        </header>
        <main id="main" tabindex={-1}>
          {p.children}
        </main>
        {(p.scripts ?? []).map((s) => (
          <script src={s} />
        ))}
        <script src="/ui/assets/app.js" defer />
      </body>
    </html>
  );
}

/** The hidden CSRF field every form carries. */
export function Csrf(p: { token: string }) {
  return <input type="hidden" name={CSRF_FIELD} value={p.token} />;
}

/** A status pill (job status, execution state, member status). */
export function Badge(p: { state: string; label?: string }) {
  const state = p.state || "untriggered";
  return <span class={`badge ${state}`}>{p.label ?? state}</span>;
}

/** A small POST form with one button (run, toggle, revoke...). */
export function ActionButton(p: {
  action: string;
  csrf: string;
  label: string;
  kind?: "primary" | "danger";
  fields?: Record<string, string>;
}) {
  return (
    <form method="post" action={p.action}>
      <Csrf token={p.csrf} />
      {Object.entries(p.fields ?? {}).map(([k, v]) => (
        <input type="hidden" name={k} value={v} />
      ))}
      <button type="submit" class={p.kind}>
        {p.label}
      </button>
    </form>
  );
}
