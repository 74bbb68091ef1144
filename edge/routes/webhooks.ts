import { type Context, Hono } from "hono";
import { AppError, readLimitedBytes, WEBHOOK_HEADERS, type WebhookJson } from "../../shared";
import type { EdgeDeps } from "../context";
import { readJsonBody } from "./body";

/**
 * Webhooks: `/v1/webhooks` manages hooks (token-checked by control like every /v1 route), and
 * `POST /hooks/:id` delivers one. A delivery carries no token: its signature is the credential, and
 * control checks it where the hook's secret is. The body is read raw (within the body limit),
 * because the signature is over its exact text.
 */
export function webhookRoutes(deps: EdgeDeps): Hono {
  const { control } = deps;
  const r = new Hono();

  r.post("/v1/webhooks", async (c) => {
    const body = await readJsonBody(c, deps.bodyText);
    const hook = await control.call("webhooks.create", { hook: body }, c.var.caller);
    c.header("Location", `/v1/webhooks/${encodeURIComponent(hook.id)}`);
    // The secret is in this answer only: no cache may keep it.
    c.header("Cache-Control", "no-store");
    return c.json({ ...hook, url: absolute(c, hook.url) }, 201);
  });

  r.get("/v1/webhooks", async (c) => {
    const job = c.req.query("job");
    const hooks = await control.call("webhooks.list", job ? { job } : {}, c.var.caller);
    c.header("X-Total-Count", String(hooks.length));
    return c.json(hooks.map((h) => withUrl(c, h)));
  });

  r.get("/v1/webhooks/:id", async (c) =>
    c.json(withUrl(c, await control.call("webhooks.get", { id: c.req.param("id") }, c.var.caller))),
  );

  r.delete("/v1/webhooks/:id", async (c) =>
    c.json(withUrl(c, await control.call("webhooks.delete", { id: c.req.param("id") }, c.var.caller))),
  );

  r.post("/hooks/:id", async (c) => {
    const body = await signedBody(c, deps.maxBodyBytes);
    const header = (name: string) => c.req.header(name);
    const headers = Object.fromEntries(
      Object.entries({
        timestamp: header(WEBHOOK_HEADERS.timestamp),
        signature: header(WEBHOOK_HEADERS.signature),
        delivery: header(WEBHOOK_HEADERS.delivery),
        github_signature: header(WEBHOOK_HEADERS.githubSignature),
        github_delivery: header(WEBHOOK_HEADERS.githubDelivery),
      }).filter(([, v]) => v !== undefined),
    );
    const accepted = await control.call(
      "hooks.deliver",
      { id: c.req.param("id"), body, headers },
      c.var.caller,
    );
    return c.json(accepted, 202);
  });

  return r;
}

/**
 * A delivery's body as the text its sender signed: the bytes as sent, decoded as UTF-8 with a
 * leading byte order mark kept (the default decoding drops it, so a correctly signed body with one
 * failed its signature). A body that is not UTF-8 cannot travel to control or the job as text: it
 * is a 400 saying so, rather than a 401 claiming a bad signature.
 */
async function signedBody(c: Context, maxBytes: number): Promise<string> {
  const bytes = await readLimitedBytes(c.req.raw, maxBytes);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new AppError(
      "BAD_REQUEST",
      "a webhook body must be UTF-8 text: it is signed as sent and handed to the job as text",
      { field: "body" },
    );
  }
}

/** `/hooks/<id>` as a URL on the origin this request came to. */
function absolute(c: Context, path: string): string {
  return new URL(path, c.req.url).href;
}

function withUrl(c: Context, hook: WebhookJson): WebhookJson {
  return { ...hook, url: absolute(c, hook.url) };
}
