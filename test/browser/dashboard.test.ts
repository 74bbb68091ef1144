import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentProcess, adminTokenOf, startAgent, waitFor } from "../helpers/agent-process";
import { CHROMIUM, launchBrowser, shot } from "../helpers/browser";
import { adminWalk, dashboardWalk, phoneShot } from "../helpers/dashboard-walk";
import { tempDir } from "../helpers/tmp";

// The dashboard in a real browser (Debian's chromium through playwright-core), against a real control
// node process, and once more through the Worker in workerd (wrangler's unstable_startWorker).

type Worker = Awaited<ReturnType<typeof import("wrangler").unstable_startWorker>>;
const WRANGLER_TOML = fileURLToPath(new URL("../../wrangler.toml", import.meta.url));
const SECRET = randomBytes(16).toString("hex");

if (!CHROMIUM)
  process.stderr.write(
    "test/browser/dashboard.test.ts: SKIPPED, no chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does)\n",
  );

const dir = tempDir("dkron-browser-");
let agent: AgentProcess | undefined;
let browser: Browser | undefined;
let admin = "";

/** Makes a token through the API with the admin token. */
async function makeToken(name: string, scopes: string[], prefix = ""): Promise<string> {
  const r = await fetch(`${agent!.url}/v1/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body: JSON.stringify({ name, scopes, ...(prefix ? { prefix } : {}) }),
  });
  expect(r.status).toBe(201);
  return ((await r.json()) as { token: string }).token;
}

beforeAll(async () => {
  const dataDir = join(dir.path, "data");
  agent = await startAgent([
    "--bootstrap-expect",
    "1",
    "--data-dir",
    dataDir,
    "--node-name",
    "ui-node",
    "--control-token",
    SECRET,
  ]);
  admin = await adminTokenOf(dataDir);
  await waitFor("the local runner", async () => {
    const r = await fetch(`${agent!.url}/v1/`, { headers: { authorization: `Bearer ${admin}` } });
    return Number(((await r.json()) as { serf?: { runners?: string } }).serf?.runners) >= 1
      ? true
      : undefined;
  });
  // A small fleet, some with history, so the list's sparklines and the overview have something to show.
  const fleet: [string, string, string][] = [
    ["nightly-backup", "0 30 2 * * *", "echo backed up"],
    ["report-hourly", "0 0 * * * *", "echo report"],
    ["sync-5m", "@every 5m", "echo synced"],
    ["flaky-import", "0 */15 * * * *", "exit 3"],
  ];
  // Berlin's clocks skip 02:00-03:00 on the last Sunday of March: the March Sundays that are transition days fall in the gap.
  const dst = await fetch(`${agent.url}/v1/jobs`, {
    method: "POST",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body: JSON.stringify({
      name: "dst-yearly",
      schedule: "0 30 2 * 3 SUN",
      timezone: "Europe/Berlin",
      executor: "shell",
      executor_config: { command: "true" },
    }),
  });
  expect(dst.status).toBe(201);
  for (const [name, schedule, command] of fleet) {
    const r = await fetch(`${agent.url}/v1/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({
        name,
        schedule,
        owner: "ops",
        tags: { role: "dkron" },
        executor: "shell",
        executor_config: { command, shell: "true" },
      }),
    });
    expect(r.status).toBe(201);
  }
  for (let i = 0; i < 3; i++)
    for (const [name] of fleet)
      await fetch(`${agent.url}/v1/jobs/${name}/run`, {
        method: "POST",
        headers: { authorization: `Bearer ${admin}` },
      });
  if (CHROMIUM) browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await agent?.kill();
  dir.cleanup();
});

describe.skipIf(!CHROMIUM)("the dashboard on a control node, in chromium", () => {
  it("signs in, creates a job through the form, watches it run live, toggles and deletes it", async () => {
    await dashboardWalk(browser!, agent!.url, admin, "node");
  }, 120_000);

  it("makes and revokes a token, and makes, delivers to and rotates a webhook, secrets shown once", async () => {
    await adminWalk(browser!, agent!.url, admin, "node", "report-hourly");
  }, 120_000);

  it("fits a phone in dark mode", async () => {
    await phoneShot(browser!, agent!.url, admin, "node", "/ui", "14-phone-overview-dark");
    await phoneShot(browser!, agent!.url, admin, "node", "/ui/jobs", "15-phone-jobs-dark");
  }, 60_000);

  it("shows a read-only token no action buttons, and explains a page it may not see", async () => {
    await fetch(`${agent!.url}/v1/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({
        name: "ro-visible",
        schedule: "@manually",
        executor: "shell",
        executor_config: { command: "true" },
      }),
    });
    const reader = await makeToken("ui-reader", ["read"]);
    const context = await browser!.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${agent!.url}/ui/sign-in?next=/ui/jobs/ro-visible`);
      await page.fill("#token", reader);
      await page.click("button[type=submit]");
      await page.waitForURL((u) => u.pathname === "/ui/jobs/ro-visible");
      expect(await page.locator("form[action$='/run'], form[action$='/toggle'], a.danger").count()).toBe(0);
      await page.goto(`${agent!.url}/ui/jobs`);
      expect(await page.locator("[data-bulk], a[href='/ui/jobs/new']").count()).toBe(0);
      // No admin nav entry, and the admin page itself says which scope it needs.
      expect(await page.locator("nav.main a[href='/ui/tokens']").count()).toBe(0);
      const res = await page.goto(`${agent!.url}/ui/tokens`);
      expect(res?.status()).toBe(403);
      expect(await page.textContent("main")).toMatch(/needs admin/);
      await shot(page, "node", "16-forbidden");
      // A token revoked meanwhile ends the session with a reason.
      const id = reader.split(".")[1];
      await fetch(`${agent!.url}/v1/tokens/${id}`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${admin}` },
      });
      await page.goto(`${agent!.url}/ui/jobs`);
      await page.waitForURL((u) => u.pathname === "/ui/sign-in");
      expect(await page.textContent("main")).toMatch(/revoked or expired/);
    } finally {
      await context.close();
    }
  }, 60_000);

  it("refuses a form posted without the CSRF token, and changes nothing", async () => {
    const r = await fetch(`${agent!.url}/ui/jobs/ro-visible/toggle`, {
      method: "POST",
      headers: {
        cookie: `dkron_session=${admin}; dkron_csrf=abcdefghijklmnopqrstuvwx`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "_csrf=wrongwrongwrongwrongwrong",
    });
    expect(r.status).toBe(403);
    const job = (await (
      await fetch(`${agent!.url}/v1/jobs/ro-visible`, { headers: { authorization: `Bearer ${admin}` } })
    ).json()) as {
      disabled: boolean;
    };
    expect(job.disabled).toBe(false);
  });
});

describe.skipIf(!CHROMIUM)("the dashboard through the Worker in workerd (wrangler dev), in chromium", () => {
  let worker: Worker | undefined;
  let url = "";
  beforeAll(async () => {
    process.env.WRANGLER_SEND_METRICS = "false";
    process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
    const { unstable_startWorker } = await import("wrangler");
    worker = await unstable_startWorker({
      config: WRANGLER_TOML,
      bindings: {
        CONTROL_URL: { type: "plain_text", value: agent!.url },
        EDGE_NAME: { type: "plain_text", value: "ui-edge" },
        CONTROL_TOKEN: { type: "secret_text", value: SECRET },
      },
      sendMetrics: false,
      dev: {
        server: { hostname: "127.0.0.1", port: 0 },
        inspector: false,
        watch: false,
        persist: false,
        logLevel: "error",
      },
    });
    await worker.ready;
    url = (await worker.url).origin;
  }, 60_000);
  afterAll(async () => {
    await worker?.dispose();
  });

  it("walks the same way: sign in, form, live output, toggle, delete", async () => {
    await dashboardWalk(browser!, url, admin, "worker");
  }, 120_000);

  it("runs the admin pages the same way", async () => {
    await adminWalk(browser!, url, admin, "worker", "sync-5m");
  }, 120_000);
});
