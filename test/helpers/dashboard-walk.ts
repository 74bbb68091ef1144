import { createHmac } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { expect } from "vitest";
import { shot } from "./browser";

/** A job whose run prints a line every 0.4 s for about 8 s: long enough to watch live. */
const SLOW_COMMAND = "for i in $(seq 1 20); do echo line $i; sleep 0.4; done";

/**
 * The operator's walk through the dashboard at `base`: sign in, create a job through the form (an
 * invalid schedule shows the inline error first), run it and watch its output arrive live, toggle
 * it, delete it; every page is screenshotted under `group`. Shared by the control-node and Worker
 * tests, so both hosts are held to the same behaviour.
 */
export async function dashboardWalk(
  browser: Browser,
  base: string,
  token: string,
  group: string,
): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: "light" });
  const page = await context.newPage();
  const job = `walk-${group}`;
  try {
    // Signed out, the dashboard sends you to sign in.
    await page.goto(`${base}/ui/jobs`);
    await expect.poll(() => new URL(page.url()).pathname).toBe("/ui/sign-in");
    await shot(page, group, "01-sign-in");
    await page.fill("#token", "dkt.notatoken.notatokennotatokennotatokennotatoken");
    await page.click("button[type=submit]");
    expect(await page.textContent("#token-error")).toMatch(/token/i);
    await page.fill("#token", token);
    await page.click("button[type=submit]");
    // `next` brought us back to where we were going.
    await expect.poll(() => new URL(page.url()).pathname).toBe("/ui/jobs");
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === "dkron_session");
    expect(session, "the session cookie").toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict" });

    await page.goto(`${base}/ui`);
    expect(await page.textContent("h1")).toContain("Overview");
    await page.waitForSelector(".heatmap .c");
    await shot(page, group, "02-overview");

    // The form: a bad schedule is flagged inline by the live preview, before anything is saved.
    await page.goto(`${base}/ui/jobs/new`);
    await page.fill("#job-name", job);
    await watchLayoutShift(page);
    await page.fill("#job-schedule", "@every banana");
    const scheduleError = page.locator("[data-field=schedule] .error");
    await expect
      .poll(() => scheduleError.textContent(), { timeout: 10_000 })
      .toMatch(/every|duration|schedule/i);
    // The inline error and the preview land in space kept for them: nothing below moves.
    expect(await layoutShift(page), "layout shift while the preview and error arrive").toBeLessThan(0.001);
    await shot(page, group, "03-form-invalid-schedule");
    // Submitted anyway, control refuses it and the form says why, at the field, keeping the input.
    await page.click("button.primary[type=submit]");
    await expect.poll(() => scheduleError.textContent()).toMatch(/schedule/i);
    expect(await page.inputValue("#job-name")).toBe(job);
    await watchLayoutShift(page);
    await page.fill("#job-schedule", "@every 1h");
    await expect.poll(() => page.locator("#preview tbody tr").count()).toBeGreaterThan(5);
    expect(await layoutShift(page), "layout shift when the preview fills").toBeLessThan(0.001);
    expect(await scheduleError.textContent()).toBe("");
    await page.selectOption("#job-executor", "shell");
    await page.fill("#job-executor_config", `command=${SLOW_COMMAND}\nshell=true`);
    await shot(page, group, "04-form-valid");
    await page.click("button.primary[type=submit]");
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/ui/jobs/${job}`);
    expect(await page.textContent("h1")).toContain(job);
    // Its next runs are listed in its zone.
    expect(await page.locator("table").nth(0).locator("tbody tr").count()).toBeGreaterThanOrEqual(10);
    await shot(page, group, "05-job");

    // Run it and watch the output arrive while it runs.
    await page.click("form[action$='/run'] button");
    await expect.poll(() => page.url()).toContain("done=run");
    const runLink = page.locator("tbody a[href*='/executions/']").first();
    await expect
      .poll(
        async () => {
          await page.reload();
          return runLink.count();
        },
        { timeout: 15_000 },
      )
      .toBe(1);
    await runLink.click();
    await page.waitForSelector("#log");
    // While the run lasts the page is fed by the live tail (SSE), not by reloading: the log grows
    // while the badge still says running, and no line arrives twice.
    await expect
      .poll(() => page.textContent("#live-status"), { timeout: 15_000 })
      .toBe("live: streaming output");
    await watchLayoutShift(page);
    const seen = ((await page.textContent("#log")) ?? "").length;
    const grown = async () => ({
      log: (await page.textContent("#log")) ?? "",
      state: await page.textContent("[data-exec-state]"),
    });
    await expect
      .poll(
        async () => {
          const g = await grown();
          return g.state === "running" && g.log.length > seen && g.log.includes("line 3");
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    const live = (await grown()).log;
    expect(await layoutShift(page), "layout shift while live output arrives").toBeLessThan(0.001);
    for (let i = 1; i <= 20; i++)
      expect(live.split(`line ${i}\n`).length, `line ${i} once`).toBeLessThanOrEqual(2);
    await shot(page, group, "06-execution-live");
    await expect.poll(() => page.textContent("[data-exec-state]"), { timeout: 30_000 }).toBe("success");
    expect(await page.textContent("#log")).toContain("line 20");
    expect(await page.textContent("#live-status")).toBe("finished: success");
    await shot(page, group, "07-execution-done");

    // Toggle: disabled, and back.
    await page.goto(`${base}/ui/jobs/${job}`);
    await page.click("form[action$='/toggle'] button");
    await expect.poll(() => page.textContent("h1 .badge")).toBe("disabled");
    await shot(page, group, "08-job-disabled");
    await page.click("form[action$='/toggle'] button");
    await expect.poll(() => page.textContent("h1 .badge")).not.toBe("disabled");

    // The edit form comes filled in from the job.
    await page.goto(`${base}/ui/jobs/${job}/edit`);
    expect(await page.inputValue("#job-schedule")).toBe("@every 1h");
    await shot(page, group, "08b-form-edit");

    // The other pages render (screenshots are looked at).
    for (const [path, name] of [
      ["/ui/jobs", "09-jobs"],
      ["/ui/cluster", "10-cluster"],
      ["/ui/tokens", "11-tokens"],
      ["/ui/webhooks", "12-webhooks"],
      ["/ui/jobs/flaky-import", "12b-job-with-history"],
      ["/ui/jobs/dst-yearly", "12c-job-dst-marks"],
    ] as const) {
      await page.goto(`${base}${path}`);
      expect(await page.locator("main h1").count(), path).toBe(1);
      await shot(page, group, name);
    }
    // A job whose next runs cross a DST change says so beside the run.
    expect(await page.locator(".mark").count()).toBeGreaterThan(0);
    const missing = await page.goto(`${base}/ui/jobs/no-such-job`);
    expect(missing?.status()).toBe(404);
    expect(await page.textContent("main")).toContain("no-such-job");
    await shot(page, group, "12d-not-found");

    // Delete, with a confirmation first.
    await page.goto(`${base}/ui/jobs/${job}`);
    await page.click("a.danger");
    await shot(page, group, "13-confirm-delete");
    await page.click("form[action$='/delete'] button");
    await expect.poll(() => page.url()).toContain("done=deleted");
    const res = await page.goto(`${base}/ui/jobs/${job}`);
    expect(res?.status()).toBe(404);

    await page.click("form[action='/ui/sign-out'] button");
    await expect.poll(() => new URL(page.url()).pathname).toBe("/ui/sign-in");
  } finally {
    await context.close();
  }
}

/** Starts summing the page's layout shifts (every one, input-driven or not). */
async function watchLayoutShift(page: Page): Promise<void> {
  await page.evaluate(`(() => {
    window.__shift = 0;
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__shift += e.value; })
      .observe({ type: "layout-shift" });
  })()`);
}

/** The layout shift summed since watchLayoutShift (0 = nothing moved). */
async function layoutShift(page: Page): Promise<number> {
  return (await page.evaluate("window.__shift")) as number;
}

/** HMAC-SHA256 signature headers of a webhook delivery (docs/api.md, Webhooks). */
function signed(secret: string, body: string, at: number): Record<string, string> {
  const ts = String(Math.floor(at / 1000));
  const sig = createHmac("sha256", secret).update(`${ts}.${body}`).digest("hex");
  return {
    "x-dkron-timestamp": ts,
    "x-dkron-signature": `sha256=${sig}`,
    "content-type": "application/json",
  };
}

/**
 * The admin pages: make a token (its secret shown once, gone on reload), check it works, revoke it
 * after a confirmation; make a webhook for `job`, deliver to it, see the delivery, rotate its secret
 * (the old one is refused from then on). Screenshots under `group`.
 */
export async function adminWalk(browser: Browser, base: string, token: string, group: string, job: string) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  try {
    // Signed in with the keyboard alone: Tab reaches the token field, Enter submits.
    await page.goto(`${base}/ui/sign-in?next=/ui/tokens`);
    const focused = () => page.evaluate("document.activeElement && document.activeElement.id");
    for (let i = 0; i < 10 && (await focused()) !== "token"; i++) await page.keyboard.press("Tab");
    expect(await focused()).toBe("token");
    await page.keyboard.type(token);
    await page.keyboard.press("Enter");
    await page.waitForURL((u) => u.pathname === "/ui/tokens");
    const name = `ci-${group}`;
    await page.fill("input[name=name]", name);
    await page.check("input[name=scopes][value=write]");
    await page.click("form[action='/ui/tokens'] button[type=submit]");
    await page.waitForSelector("#new-secret");
    const secret = ((await page.textContent("#new-secret")) ?? "").trim();
    expect(secret).toMatch(/^dkt\./);
    await shot(page, group, "16-token-created");
    // Post/redirect/get: a reload shows the list, not the secret again, and makes nothing.
    await page.reload();
    expect(await page.locator("#new-secret").count()).toBe(0);
    expect(await page.locator("tbody tr", { hasText: name }).count()).toBe(1);
    const api = (t: string) =>
      fetch(`${base}/v1/jobs?_start=0&_end=1`, { headers: { authorization: `Bearer ${t}` } });
    expect((await api(secret)).status).toBe(200);
    await page.locator("tbody tr", { hasText: name }).locator("a.danger").click();
    await shot(page, group, "17-token-revoke-confirm");
    await page.click("form[action$='/revoke'] button");
    await expect.poll(() => page.url()).toContain("done=revoked");
    expect(await page.textContent("[role=status]")).toContain("Token revoked");
    expect((await api(secret)).status).toBe(401);

    await page.goto(`${base}/ui/webhooks`);
    await page.fill("input[name=job]", job);
    await page.click("form[action='/ui/webhooks'] button[type=submit]");
    await page.waitForSelector("#new-secret");
    const hookSecret = ((await page.textContent("#new-secret")) ?? "").trim();
    const hookUrl = ((await page.textContent("#new-secret ~ .note")) ?? "").replace(/^POST /, "").trim();
    expect(hookSecret).toMatch(/^whsec_/);
    expect(new URL(hookUrl).pathname).toMatch(/^\/hooks\//);
    await shot(page, group, "18-webhook-created");
    const body = JSON.stringify({ ref: "main" });
    const deliver = (s: string) =>
      fetch(`${base}${new URL(hookUrl).pathname}`, {
        method: "POST",
        headers: signed(s, body, Date.now()),
        body,
      });
    expect((await deliver(hookSecret)).status).toBe(202);
    const hookId = new URL(hookUrl).pathname.split("/").pop()!;
    await page.goto(`${base}/ui/webhooks/${hookId}`);
    expect(await page.locator("tbody tr").count()).toBe(1);
    expect(await page.locator("tbody .muted").count()).toBe(0);
    await shot(page, group, "19-webhook-deliveries");
    await page.goto(`${base}/ui/webhooks`);
    await page.locator("tbody tr", { hasText: hookId }).locator("form[action$='/rotate'] button").click();
    await page.waitForSelector("#new-secret");
    const rotated = ((await page.textContent("#new-secret")) ?? "").trim();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(hookSecret);
    await shot(page, group, "20-webhook-rotated");
    expect((await deliver(hookSecret)).status).toBe(401);
    expect((await deliver(rotated)).status).toBe(202);
  } finally {
    await context.close();
  }
}

/** Opens `path` on a phone-sized, dark-mode page and screenshots it. */
export async function phoneShot(
  browser: Browser,
  base: string,
  token: string,
  group: string,
  path: string,
  name: string,
) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    colorScheme: "dark",
    isMobile: true,
  });
  const page: Page = await context.newPage();
  try {
    await page.goto(`${base}/ui/sign-in?next=${encodeURIComponent(path)}`);
    await page.fill("#token", token);
    await page.click("button[type=submit]");
    await page.waitForURL((u) => u.pathname === path);
    await shot(page, group, name);
    // Nothing wider than the phone's screen but the tables, which scroll inside their box.
    // A string, so the browser's globals need no DOM types in this Node-typed file.
    const overflow = (await page.evaluate(
      "document.documentElement.scrollWidth - window.innerWidth",
    )) as number;
    expect(overflow).toBeLessThanOrEqual(1);
  } finally {
    await context.close();
  }
}
