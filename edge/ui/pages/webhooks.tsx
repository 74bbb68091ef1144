/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { DeliveryRecordJson, SelfJson, WebhookJson } from "../../../shared";
import { grants } from "../../../shared";
import { parseApiTime, relativeTime } from "../format";
import { ActionButton, Csrf, Layout } from "../layout";

/** Webhooks: every hook, a create form, and (once) the secret of a new or rotated hook. */
export function WebhooksPage(p: {
  csrf: string;
  self: SelfJson;
  hooks: WebhookJson[];
  origin: string;
  now: number;
  /** What the action that led here did (a fixed sentence). */
  notice?: string | undefined;
  created?: { id: string; job: string; secret: string; url: string } | undefined;
  error?: string | undefined;
  job?: string;
}) {
  const canManage = grants(p.self.scopes, "write") && grants(p.self.scopes, "run");
  return (
    <Layout title="Webhooks" active="webhooks" csrf={p.csrf} self={p.self}>
      <h1>Webhooks</h1>
      {p.notice && !p.created ? (
        <p class="panel" role="status">
          {p.notice}
        </p>
      ) : null}
      {p.created ? (
        <section class="panel" role="status">
          <h2>
            Secret of hook {p.created.id} (job {p.created.job})
          </h2>
          <p>
            Copy it now: it is shown this once. Sign each delivery with HMAC-SHA256 of the body (docs/api.md,
            Webhooks).
          </p>
          <div class="secret" id="new-secret">
            {p.created.secret}
          </div>
          <p class="note mono">POST {p.origin + p.created.url}</p>
        </section>
      ) : null}
      {canManage ? (
        <section class="panel">
          <h2>Create a webhook</h2>
          <form method="post" action="/ui/webhooks" class="actions">
            <Csrf token={p.csrf} />
            <div class="field" style="min-width:260px" data-invalid={p.error ? "" : undefined}>
              <label for="w-job">Job</label>
              <input
                id="w-job"
                name="job"
                type="text"
                value={p.job ?? ""}
                required
                aria-describedby="w-job-error"
              />
              <div class="error" id="w-job-error" role="alert">
                {p.error ?? ""}
              </div>
            </div>
            <button type="submit" class="primary">
              Create webhook
            </button>
          </form>
        </section>
      ) : null}
      <section class="panel flush">
        <h2>Hooks</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Hook</th>
                <th>Job</th>
                <th class="hide-sm">URL</th>
                <th>Last delivery</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {p.hooks.length === 0 ? (
                <tr>
                  <td colspan={5} class="muted">
                    No webhooks yet.
                  </td>
                </tr>
              ) : (
                p.hooks.map((h) => (
                  <tr>
                    <td class="mono">
                      <a href={`/ui/webhooks/${encodeURIComponent(h.id)}`}>{h.id}</a>
                    </td>
                    <td>
                      <a href={`/ui/jobs/${encodeURIComponent(h.job)}`}>{h.job}</a>
                    </td>
                    <td class="mono hide-sm">{p.origin + h.url}</td>
                    <td class="nowrap">{relativeTime(parseApiTime(h.last_delivery_at), p.now)}</td>
                    <td class="actions">
                      {canManage ? (
                        <>
                          <ActionButton
                            action={`/ui/webhooks/${encodeURIComponent(h.id)}/rotate`}
                            csrf={p.csrf}
                            label="Rotate secret"
                          />
                          <a class="btn danger" href={`/ui/webhooks/${encodeURIComponent(h.id)}/delete`}>
                            Delete
                          </a>
                        </>
                      ) : null}
                    </td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      </section>
    </Layout>
  );
}

/** One hook and the deliveries it accepted within its replay window. */
export function WebhookPage(p: {
  csrf: string;
  self: SelfJson;
  hook: WebhookJson;
  deliveries: DeliveryRecordJson[];
  origin: string;
  now: number;
}) {
  return (
    <Layout title={`Webhook ${p.hook.id}`} active="webhooks" csrf={p.csrf} self={p.self}>
      <p class="note">
        <a href="/ui/webhooks">Webhooks</a> /
      </p>
      <h1>
        Webhook <span class="mono sub">{p.hook.id}</span>
      </h1>
      <section class="panel">
        <dl class="def">
          <dt>Job</dt>
          <dd>
            <a href={`/ui/jobs/${encodeURIComponent(p.hook.job)}`}>{p.hook.job}</a>
          </dd>
          <dt>URL</dt>
          <dd class="mono">{p.origin + p.hook.url}</dd>
          <dt>Created</dt>
          <dd>{relativeTime(parseApiTime(p.hook.created_at), p.now)}</dd>
        </dl>
      </section>
      <section class="panel flush">
        <h2>Recent deliveries</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Delivery id</th>
                <th>Accepted</th>
              </tr>
            </thead>
            <tbody>
              {p.deliveries.length === 0 ? (
                <tr>
                  <td colspan={2} class="muted">
                    No deliveries within the replay window.
                  </td>
                </tr>
              ) : (
                p.deliveries.map((d) => (
                  <tr>
                    <td class="mono">{d.delivery}</td>
                    <td class="nowrap">{relativeTime(parseApiTime(d.at), p.now)}</td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      </section>
    </Layout>
  );
}
