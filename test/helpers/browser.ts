import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";

/** Where Debian's chromium is (installed by .ci/run with apt-get); playwright downloads nothing. */
export const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

/** Screenshots of every page land here (gitignored), per test run. */
export const SHOTS_DIR = fileURLToPath(new URL("../../test-output/screenshots/", import.meta.url));

/** Launches headless chromium (no sandbox: tests may run as root in a container). */
export async function launchBrowser(): Promise<Browser> {
  if (!CHROMIUM) throw new Error("chromium is not installed (apt-get install chromium; .ci/run does)");
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
}

/** Saves a full-page screenshot named `<group>/<name>.png`; returns its path. */
export async function shot(page: Page, group: string, name: string): Promise<string> {
  const dir = join(SHOTS_DIR, group);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
