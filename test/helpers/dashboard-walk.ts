import type { Browser, Page } from "playwright-core";
import { expect } from "vitest";
import { shot } from "./browser";

/** A job whose run prints a line every 0.4 s for about 4 s: long enough to watch live. */
const SLOW_COMMAND = "for i in 1 2 3 4 5 6 7 8 9 10; do echo line $i; sleep 0.4; done";

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
    await page.fill("#job-schedule", "@every banana");
    const scheduleError = page.locator("[data-field=schedule] .error");
    await expect
      .poll(() => scheduleError.textContent(), { timeout: 10_000 })
      .toMatch(/every|duration|schedule/i);
    await shot(page, group, "03-form-invalid-schedule");
    // Submitted anyway, control refuses it and the form says why, at the field, keeping the input.
    await page.click("button.primary[type=submit]");
    await expect.poll(() => scheduleError.textContent()).toMatch(/schedule/i);
    expect(await page.inputValue("#job-name")).toBe(job);
    await page.fill("#job-schedule", "@every 1h");
    await expect.poll(() => page.locator("#preview tbody tr").count()).toBeGreaterThan(5);
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
    await expect.poll(() => page.textContent("#log"), { timeout: 15_000 }).toContain("line 3");
    // While the run lasts the page is fed by the live tail, not by reloading.
    const liveWhileRunning = await page.textContent("#live-status");
    await shot(page, group, "06-execution-live");
    await expect.poll(() => page.textContent("[data-exec-state]"), { timeout: 20_000 }).toBe("success");
    expect(await page.textContent("#log")).toContain("line 10");
    expect(liveWhileRunning).toMatch(/live|finished/);
    await shot(page, group, "07-execution-done");

    // Toggle: disabled, and back.
    await page.goto(`${base}/ui/jobs/${job}`);
    await page.click("form[action$='/toggle'] button");
    await expect.poll(() => page.textContent("h1 .badge")).toBe("disabled");
    await shot(page, group, "08-job-disabled");
    await page.click("form[action$='/toggle'] button");
    await expect.poll(() => page.textContent("h1 .badge")).not.toBe("disabled");

    // The other pages render (screenshots are looked at).
    for (const [path, name] of [
      ["/ui/jobs", "09-jobs"],
      ["/ui/cluster", "10-cluster"],
      ["/ui/tokens", "11-tokens"],
      ["/ui/webhooks", "12-webhooks"],
    ] as const) {
      await page.goto(`${base}${path}`);
      expect(await page.locator("main h1").count(), path).toBe(1);
      await shot(page, group, name);
    }

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
