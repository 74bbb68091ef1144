/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { type Context, Hono } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import { streamSSE } from "hono/streaming";
import {
  AppError,
  type Caller,
  httpStatusOf,
  isAppError,
  previewExpression,
  type SchedulePreviewJson,
  type SelfJson,
  toAppError,
} from "../../shared";
import type { EdgeDeps } from "../context";
import { APP_CSS, APP_JS, UPLOT_CSS, UPLOT_JS, UPLOT_VERSION } from "./assets";
import { SchedulePreview } from "./components";
import { formToJob, formValues, jobFormFields } from "./job-form-fields";
import { jobsListParams, readJobsQuery } from "./jobs-query";
import {
  ClusterPage,
  ConfirmPage,
  ErrorPage,
  ExecutionPage,
  JobFormPage,
  JobPage,
  JobsPage,
  OverviewPage,
  SignInPage,
  TokensPage,
  WebhookPage,
  WebhooksPage,
} from "./pages";
import {
  checkCsrf,
  endSession,
  insecureOriginReason,
  passOnce,
  SESSION_COOKIE,
  session,
  startSession,
  takeOnce,
} from "./session";

/** Executions per page of a job's history. */
const EXEC_PAGE = 25;
/** How often the log tail asks the leader for new output. */
const TAIL_POLL_MS = 400;
/**
 * Polls per tail stream (about 16 s): then it ends and the browser reconnects after TAIL_RETRY_MS,
 * resuming from its last event id. Short streams keep a Worker under its subrequests-per-request
 * limit (each poll is one call to the control node) and free idle connections.
 */
const TAIL_MAX_POLLS = 40;
/** How soon the browser reconnects a tail stream that ended (the SSE `retry` field), ms. */
const TAIL_RETRY_MS = 300;
/** Jobs one bulk action may touch. */
const MAX_BULK = 100;

/** What an action's redirect says it did (fixed words: nothing from the query is echoed as text). */
const NOTICES: Record<string, string> = {
  run: "Started. The run appears in the executions below within a moment.",
  enabled: "Enabled.",
  disabled: "Disabled.",
  created: "Job created.",
  saved: "Job saved.",
  deleted: "Job deleted.",
  revoked: "Token revoked.",
  hook_deleted: "Webhook deleted.",
  token_created:
    "Token created. Its secret was shown once; if you did not copy it, revoke it and make another.",
  hook_created: "Webhook created. Its secret was shown once; if you did not copy it, rotate it.",
  hook_rotated: "Secret rotated: the old one no longer signs deliveries. The new one was shown once.",
};

type Form = Record<string, string> & { __all?: never };

/**
 * The dashboard at /ui: server-rendered hono/jsx pages over the same control-api client as /v1, so
 * it runs unchanged in a Worker and in-process on a control node. The token lives in a cookie; every
 * call carries it to control, which decides what it may do (the pages only hide what it may not).
 */
export function uiRoutes(deps: EdgeDeps): Hono {
  const { control } = deps;
  const r = new Hono();
  const now = () => deps.clock.now();
  const call = <M extends Parameters<typeof control.call>[0]>(
    c: Context,
    m: M,
    p: Parameters<typeof control.call<M>>[1],
  ) => control.call(m, p, c.var.caller as Caller);
  const html = (c: Context, node: JSX.Element, status = 200) => {
    c.header("Cache-Control", "no-store");
    c.header("X-Frame-Options", "DENY");
    c.header(
      "Content-Security-Policy",
      "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
    );
    return c.html(node, status as 200);
  };
  const self = (c: Context): Promise<SelfJson> => call(c, "tokens.self", {});
  const readForm = async (c: Context): Promise<{ one: Form; all: URLSearchParams }> => {
    const all = new URLSearchParams(await deps.bodyText(c));
    const one: Record<string, string> = {};
    for (const [k, v] of all) if (!(k in one)) one[k] = v;
    return { one: one as Form, all };
  };
  const notice = (c: Context) => NOTICES[c.req.query("done") ?? ""];

  // Assets: the stylesheet, the script and uPlot, served by the app itself (no CDN).
  const asset = (body: string, type: string) => (c: Context) => {
    c.header("Content-Type", type);
    c.header("Cache-Control", "public, max-age=3600");
    return c.body(body);
  };
  r.get("/assets/app.css", asset(APP_CSS, "text/css; charset=utf-8"));
  r.get("/assets/app.js", asset(APP_JS, "text/javascript; charset=utf-8"));
  r.get("/assets/uplot.js", asset(UPLOT_JS, "text/javascript; charset=utf-8"));
  r.get("/assets/uplot.css", asset(UPLOT_CSS, "text/css; charset=utf-8"));
  r.get("/assets/version", (c) => c.json({ uplot: UPLOT_VERSION }));

  r.use("*", session(deps.randomBytes));

  r.get("/sign-in", (c) => {
    const reason = c.req.query("reason");
    const insecure = insecureOriginReason(c);
    return html(
      c,
      <SignInPage
        csrf={c.var.csrf}
        next={safeNext(c.req.query("next"))}
        {...(reason === "expired"
          ? { notice: "Your session ended: the token is unknown, revoked or expired." }
          : {})}
        {...(reason === "signed-out" ? { notice: "Signed out." } : {})}
        {...(insecure ? { warning: insecure } : {})}
      />,
    );
  });
  r.post("/sign-in", async (c) => {
    const { one } = await readForm(c);
    checkCsrf(c, one);
    const token = (one.token ?? "").trim();
    const next = safeNext(one.next);
    if (!token)
      return html(c, <SignInPage csrf={c.var.csrf} next={next} error="token: paste an API token" />, 400);
    try {
      await control.call("tokens.self", {}, { ...c.var.caller, token });
    } catch (e) {
      const err = asAppError(e);
      if (err.code !== "UNAUTHORIZED" && err.code !== "FORBIDDEN") throw err;
      return html(c, <SignInPage csrf={c.var.csrf} next={next} error={`token: ${err.message}`} />, 401);
    }
    startSession(c, token, deps.randomBytes);
    return c.redirect(next, 303);
  });
  r.post("/sign-out", async (c) => {
    checkCsrf(c, (await readForm(c)).one);
    endSession(c);
    return c.redirect("/ui/sign-in?reason=signed-out", 303);
  });

  r.get("/", async (c) => {
    const [me, o] = await Promise.all([self(c), call(c, "dashboard.overview", {})]);
    return html(c, <OverviewPage csrf={c.var.csrf} self={me} o={o} now={now()} />);
  });

  r.get("/jobs", async (c) => {
    const q = readJobsQuery(new URL(c.req.url).searchParams);
    const [me, page] = await Promise.all([self(c), call(c, "jobs.list", jobsListParams(q))]);
    const recent = page.items.length
      ? await call(c, "dashboard.recent", { names: page.items.map((j) => j.name), n: 20 })
      : {};
    const bulk = c.req.query("bulk");
    return html(
      c,
      <JobsPage
        csrf={c.var.csrf}
        self={me}
        q={q}
        total={page.total}
        jobs={page.items}
        recent={recent}
        now={now()}
        notice={bulk && /^\d+(,\d+)?$/.test(bulk) ? bulkNotice(bulk) : notice(c)}
      />,
    );
  });

  r.post("/jobs/bulk", async (c) => {
    const { one, all } = await readForm(c);
    checkCsrf(c, one);
    const names = all.getAll("names").slice(0, MAX_BULK);
    const action = one.action;
    if (action !== "run" && action !== "enable" && action !== "disable")
      throw new AppError("VALIDATION", `action: must be run, enable or disable, got "${action ?? ""}"`, {
        field: "action",
      });
    let done = 0;
    let failed = 0;
    for (const name of names) {
      try {
        if (action === "run") await call(c, "jobs.run", { name });
        else {
          // Set, not flip: two operators disabling at once both end disabled.
          await call(c, "jobs.toggle", { name, disabled: action === "disable" });
        }
        done++;
      } catch (e) {
        if (asAppError(e).code === "UNAUTHORIZED") throw e;
        failed++;
      }
    }
    const back = safeNext(one.back, "/ui/jobs");
    return c.redirect(`${back}${back.includes("?") ? "&" : "?"}bulk=${done},${failed}`, 303);
  });

  const fields = jobFormFields();
  const previewOf = (values: Record<string, string>): { preview?: SchedulePreviewJson; error?: string } => {
    if (!values.schedule) return {};
    try {
      return {
        preview: previewExpression({
          schedule: values.schedule,
          timezone: values.timezone ?? "",
          dst: values.dst ?? "auto",
          n: 10,
          from: now(),
          name: values.name ?? "",
        }),
      };
    } catch (e) {
      return { error: asAppError(e).message };
    }
  };
  const formPage = (
    c: Context,
    me: SelfJson,
    values: Record<string, string>,
    editing?: string,
    error?: { field?: string | undefined; message: string },
    status = 200,
  ) =>
    html(
      c,
      <JobFormPage
        csrf={c.var.csrf}
        self={me}
        fields={fields}
        values={values}
        editing={editing}
        error={error}
        preview={<SchedulePreview {...previewOf(values)} />}
      />,
      status,
    );
  const saveJob = async (c: Context, editing?: string) => {
    const { one } = await readForm(c);
    checkCsrf(c, one);
    const me = await self(c);
    const values: Record<string, string> = {};
    for (const f of fields)
      values[f.name] = f.kind === "checkbox" ? (one[f.name] ? "true" : "false") : (one[f.name] ?? "");
    if (editing) values.name = editing;
    const body = formToJob(fields, values);
    if ("problem" in body) return formPage(c, me, values, editing, body.problem, 400);
    try {
      const job = await call(c, "jobs.put", { job: body.job, ...(editing ? { path_name: editing } : {}) });
      return c.redirect(
        `/ui/jobs/${encodeURIComponent(job.name)}?done=${editing ? "saved" : "created"}`,
        303,
      );
    } catch (e) {
      const err = asAppError(e);
      if (err.code !== "VALIDATION" && err.code !== "CONFLICT" && err.code !== "FORBIDDEN") throw err;
      const field = typeof err.details?.field === "string" ? err.details.field.split(".")[0] : undefined;
      return formPage(c, me, values, editing, { field, message: err.message }, httpStatusOf[err.code]);
    }
  };
  r.get("/jobs/new", async (c) => formPage(c, await self(c), formValues(fields)));
  r.post("/jobs/new", (c) => saveJob(c));

  // The schedule preview fragment, computed here from shared/schedule (no control call).
  r.get("/preview", async (c) => {
    await self(c);
    const q = (k: string) => c.req.query(k) ?? "";
    const values = {
      schedule: q("schedule"),
      timezone: q("timezone"),
      dst: q("dst") || "auto",
      name: q("name"),
    };
    c.header("Cache-Control", "no-store");
    return c.html(<SchedulePreview {...previewOf(values)} />);
  });

  r.get("/jobs/:job", async (c) => {
    const name = c.req.param("job");
    const page = Math.max(1, Number(c.req.query("page")) || 1);
    const [me, job, execs] = await Promise.all([
      self(c),
      call(c, "jobs.get", { name, next: 10 }),
      call(c, "executions.list", {
        job: name,
        start: (page - 1) * EXEC_PAGE,
        end: page * EXEC_PAGE,
        output_size_limit: 0,
      }),
    ]);
    return html(
      c,
      <JobPage
        csrf={c.var.csrf}
        self={me}
        job={job}
        executions={execs.items}
        total={execs.total}
        page={page}
        size={EXEC_PAGE}
        now={now()}
        notice={notice(c)}
      />,
    );
  });
  const jobAction = (path: string, act: (c: Context, name: string) => Promise<string>) =>
    r.post(`/jobs/:job/${path}`, async (c) => {
      checkCsrf(c, (await readForm(c)).one);
      const name = c.req.param("job");
      const done = await act(c, name);
      return c.redirect(
        done === "deleted" ? "/ui/jobs?done=deleted" : `/ui/jobs/${encodeURIComponent(name)}?done=${done}`,
        303,
      );
    });
  jobAction("run", async (c, name) => {
    await call(c, "jobs.run", { name });
    return "run";
  });
  jobAction("toggle", async (c, name) =>
    (await call(c, "jobs.toggle", { name })).disabled ? "disabled" : "enabled",
  );
  jobAction("delete", async (c, name) => {
    await call(c, "jobs.delete", { name });
    return "deleted";
  });
  r.get("/jobs/:job/delete", async (c) => {
    const name = c.req.param("job");
    const [me] = await Promise.all([self(c), call(c, "jobs.get", { name })]);
    const base = `/ui/jobs/${encodeURIComponent(name)}`;
    return html(
      c,
      <ConfirmPage
        csrf={c.var.csrf}
        self={me}
        active="jobs"
        title={`Delete ${name}?`}
        text="The job, its execution history and its webhooks are deleted on every node. This cannot be undone."
        action={`${base}/delete`}
        button="Delete job"
        back={base}
      />,
    );
  });
  r.get("/jobs/:job/edit", async (c) => {
    const name = c.req.param("job");
    const [me, job] = await Promise.all([self(c), call(c, "jobs.get", { name })]);
    return formPage(c, me, formValues(fields, job), name);
  });
  r.post("/jobs/:job/edit", (c) => saveJob(c, c.req.param("job")));

  r.get("/jobs/:job/executions/:id", async (c) => {
    const [me, e] = await Promise.all([
      self(c),
      call(c, "executions.get", { job: c.req.param("job"), id: c.req.param("id") }),
    ]);
    // A running execution's page shows the leader's kept tail and starts the live tail at its
    // absolute offset (characters since the run began), so a long output resumes without repeats.
    const live =
      e.state === "running"
        ? await call(c, "executions.tail", { job: e.job_name, id: e.id, from: 0 }).catch(() => undefined)
        : undefined;
    return html(
      c,
      <ExecutionPage
        csrf={c.var.csrf}
        self={me}
        e={e}
        now={now()}
        {...(live?.running ? { live: { text: live.text, offset: live.offset, skipped: live.skipped } } : {})}
      />,
    );
  });

  // The live log tail: SSE from the leader (executions.tail is answered there), resumable: each
  // event's id is the output offset, which the browser sends back as Last-Event-ID on reconnect.
  r.get("/jobs/:job/executions/:id/stream", async (c) => {
    const job = c.req.param("job");
    const id = c.req.param("id");
    const resume = Number(c.req.header("last-event-id") ?? c.req.query("from") ?? "0");
    let from = Number.isSafeInteger(resume) && resume >= 0 ? resume : 0;
    // The first call outside the stream: a bad token or an unknown execution gets its status code.
    let t = await call(c, "executions.tail", { job, id, from });
    return streamSSE(c, async (stream) => {
      let open = true;
      stream.onAbort(() => {
        open = false;
      });
      // The browser reconnects soon after the stream ends and resumes from Last-Event-ID.
      await stream.writeSSE({ event: "hello", data: "", retry: TAIL_RETRY_MS });
      let polls = 0;
      while (open && polls++ < TAIL_MAX_POLLS) {
        if (!t.running) {
          await stream.writeSSE({
            event: "done",
            data: JSON.stringify({ state: t.state, output: t.output ?? "" }),
          });
          return;
        }
        if (t.text || t.skipped) {
          await stream.writeSSE({
            event: "output",
            id: String(t.offset),
            data: JSON.stringify({ text: t.text, skipped: t.skipped }),
          });
        }
        from = t.offset;
        await stream.sleep(TAIL_POLL_MS);
        if (!open) return;
        t = await call(c, "executions.tail", { job, id, from });
      }
    });
  });

  r.get("/cluster", async (c) => {
    const [me, members, status, busy] = await Promise.all([
      self(c),
      call(c, "members.list", {}),
      call(c, "status", {}),
      call(c, "busy", {}),
    ]);
    return html(
      c,
      <ClusterPage csrf={c.var.csrf} self={me} members={members} status={status} busy={busy} now={now()} />,
    );
  });

  r.get("/tokens", async (c) => {
    const [me, tokens] = await Promise.all([self(c), call(c, "tokens.list", {})]);
    const once = takeOnce(c);
    const created =
      once?.kind === "token" && once.name && once.token ? { name: once.name, token: once.token } : undefined;
    return html(
      c,
      <TokensPage
        csrf={c.var.csrf}
        self={me}
        tokens={tokens}
        now={now()}
        created={created}
        notice={notice(c)}
      />,
    );
  });
  r.post("/tokens", async (c) => {
    const { one, all } = await readForm(c);
    checkCsrf(c, one);
    const body = {
      name: one.name ?? "",
      scopes: all.getAll("scopes"),
      ...(one.prefix ? { prefix: one.prefix } : {}),
      ...(one.expires_in ? { expires_in: one.expires_in } : {}),
    };
    try {
      const made = await call(c, "tokens.create", { token: body });
      passOnce(c, { kind: "token", name: made.name, token: made.token });
      return c.redirect("/ui/tokens?done=token_created", 303);
    } catch (e) {
      const err = asAppError(e);
      if (err.code !== "VALIDATION" && err.code !== "CONFLICT") throw err;
      const [me, tokens] = await Promise.all([self(c), call(c, "tokens.list", {})]);
      const field = typeof err.details?.field === "string" ? err.details.field : undefined;
      return html(
        c,
        <TokensPage
          csrf={c.var.csrf}
          self={me}
          tokens={tokens}
          now={now()}
          error={{ field, message: err.message }}
          form={one}
        />,
        400,
      );
    }
  });
  r.get("/tokens/:id/revoke", async (c) => {
    const me = await self(c);
    const id = c.req.param("id");
    const token = (await call(c, "tokens.list", {})).find((t) => t.id === id);
    if (!token) throw new AppError("NOT_FOUND", `token "${id}" not found`, { field: "id" });
    return html(
      c,
      <ConfirmPage
        csrf={c.var.csrf}
        self={me}
        active="tokens"
        title={`Revoke ${token.name}?`}
        text="Every request with this token is refused from now on, on every node. This cannot be undone."
        action={`/ui/tokens/${encodeURIComponent(id)}/revoke`}
        button="Revoke token"
        back="/ui/tokens"
      />,
    );
  });
  r.post("/tokens/:id/revoke", async (c) => {
    checkCsrf(c, (await readForm(c)).one);
    await call(c, "tokens.revoke", { id: c.req.param("id") });
    return c.redirect("/ui/tokens?done=revoked", 303);
  });

  const origin = (c: Context) => new URL(c.req.url).origin;
  /** A new or rotated hook's secret, for the webhooks page to show once after the redirect. */
  const passHookSecret = (c: Context, h: { id: string; job: string; secret: string; url: string }) =>
    passOnce(c, { kind: "hook", id: h.id, job: h.job, secret: h.secret, url: h.url });
  r.get("/webhooks", async (c) => {
    const [me, hooks] = await Promise.all([self(c), call(c, "webhooks.list", {})]);
    const once = takeOnce(c);
    const created =
      once?.kind === "hook" && once.id && once.job && once.secret && once.url
        ? { id: once.id, job: once.job, secret: once.secret, url: once.url }
        : undefined;
    return html(
      c,
      <WebhooksPage
        csrf={c.var.csrf}
        self={me}
        hooks={hooks}
        origin={origin(c)}
        now={now()}
        created={created}
        notice={notice(c)}
      />,
    );
  });
  r.post("/webhooks", async (c) => {
    const { one } = await readForm(c);
    checkCsrf(c, one);
    try {
      passHookSecret(c, await call(c, "webhooks.create", { hook: { job: one.job ?? "" } }));
      return c.redirect("/ui/webhooks?done=hook_created", 303);
    } catch (e) {
      const err = asAppError(e);
      if (err.code !== "VALIDATION" && err.code !== "NOT_FOUND") throw err;
      const [me, hooks] = await Promise.all([self(c), call(c, "webhooks.list", {})]);
      return html(
        c,
        <WebhooksPage
          csrf={c.var.csrf}
          self={me}
          hooks={hooks}
          origin={origin(c)}
          now={now()}
          error={`job: ${err.message}`}
          job={one.job ?? ""}
        />,
        400,
      );
    }
  });
  r.get("/webhooks/:id", async (c) => {
    const id = c.req.param("id");
    const [me, hook, deliveries] = await Promise.all([
      self(c),
      call(c, "webhooks.get", { id }),
      call(c, "webhooks.deliveries", { id }),
    ]);
    return html(
      c,
      <WebhookPage
        csrf={c.var.csrf}
        self={me}
        hook={hook}
        deliveries={deliveries}
        origin={origin(c)}
        now={now()}
      />,
    );
  });
  r.post("/webhooks/:id/rotate", async (c) => {
    checkCsrf(c, (await readForm(c)).one);
    passHookSecret(c, await call(c, "webhooks.rotate", { id: c.req.param("id") }));
    return c.redirect("/ui/webhooks?done=hook_rotated", 303);
  });
  r.get("/webhooks/:id/delete", async (c) => {
    const id = c.req.param("id");
    const [me, hook] = await Promise.all([self(c), call(c, "webhooks.get", { id })]);
    return html(
      c,
      <ConfirmPage
        csrf={c.var.csrf}
        self={me}
        active="webhooks"
        title={`Delete webhook ${id}?`}
        text={`Deliveries to this hook stop starting ${hook.job} at once. This cannot be undone.`}
        action={`/ui/webhooks/${encodeURIComponent(id)}/delete`}
        button="Delete webhook"
        back="/ui/webhooks"
      />,
    );
  });
  r.post("/webhooks/:id/delete", async (c) => {
    checkCsrf(c, (await readForm(c)).one);
    await call(c, "webhooks.delete", { id: c.req.param("id") });
    return c.redirect("/ui/webhooks?done=hook_deleted", 303);
  });

  r.all("*", () => {
    throw new AppError("NOT_FOUND", "no such page in the dashboard");
  });

  // A page's error is a page: a bad or revoked token goes back to sign-in, the rest explain themselves.
  r.onError(async (e, c) => {
    const err = asAppError(e);
    if (err.code === "UNAUTHORIZED") {
      endSession(c);
      if (c.req.method === "GET" && !c.req.path.endsWith("/stream")) {
        const path = new URL(c.req.url).pathname;
        return c.redirect(`/ui/sign-in?reason=expired&next=${encodeURIComponent(path)}`, 303);
      }
    }
    if (err.code === "INTERNAL") deps.logger.error("dashboard error", { err: String(e) });
    let me: SelfJson | undefined;
    if (err.code !== "UNAUTHORIZED" && c.req.header("cookie")?.includes(SESSION_COOKIE))
      me = await self(c).catch(() => undefined);
    return html(
      c,
      <ErrorPage
        csrf={c.var.csrf ?? ""}
        self={me}
        status={httpStatusOf[err.code]}
        code={err.code}
        message={err.message}
      />,
      httpStatusOf[err.code],
    );
  });
  return r;
}

/** Only a path inside the dashboard is followed after sign-in (never another site). */
function safeNext(next: string | undefined, fallback = "/ui"): string {
  return next && /^\/ui(\/|$|\?)/.test(next) && !next.startsWith("//") ? next : fallback;
}

/** The notice after a bulk action: "done,failed". */
function bulkNotice(text: string): string {
  const [done, failed] = text.split(",").map(Number);
  return `${done} job${done === 1 ? "" : "s"} done${failed ? `, ${failed} failed (not allowed or not found)` : ""}.`;
}

/** Any thrown value as an AppError (a bug becomes INTERNAL, its cause kept). */
function asAppError(e: unknown): AppError {
  return isAppError(e)
    ? toAppError(e)
    : new AppError("INTERNAL", "unexpected error in the dashboard", undefined, { cause: e });
}
