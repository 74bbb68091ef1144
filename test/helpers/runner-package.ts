/**
 * Packs runner/ with `npm pack` and installs the tarball into an empty directory with the network
 * cut (an empty npm cache, offline, the registry an unroutable loopback port): what the test of
 * issue 11 point 2 and bench/runner-package.ts share. Every process it spawns is awaited.
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const RUNNER_DIR = fileURLToPath(new URL("../../runner/", import.meta.url));

/** `npm pack` of runner/ into `dir`; returns the tarball's path and the files it holds. */
export async function packRunner(dir: string): Promise<{ tarball: string; files: string[] }> {
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", dir], {
    cwd: RUNNER_DIR,
    maxBuffer: 16 << 20,
  });
  const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  return { tarball: join(dir, info!.filename), files: info!.files.map((f) => f.path) };
}

/**
 * Installs `tarball` into a fresh `<dir>/app` offline: an empty cache and a registry no one listens
 * on, so anything not inside the tarball fails the install. Returns the app directory.
 */
export async function installOffline(tarball: string, dir: string): Promise<string> {
  const app = join(dir, "app");
  const cache = join(dir, "empty-cache");
  mkdirSync(app, { recursive: true });
  mkdirSync(cache, { recursive: true });
  writeFileSync(join(app, "package.json"), '{"name":"runner-host","private":true}\n');
  await run(
    "npm",
    [
      "install",
      "--offline",
      "--no-audit",
      "--no-fund",
      "--cache",
      cache,
      "--registry",
      "http://127.0.0.1:9/",
      tarball,
    ],
    // npm_config_* from a parent `npm test` (the workspace root's settings) must not leak in.
    {
      cwd: app,
      env: Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_")),
      ),
    },
  );
  return app;
}
