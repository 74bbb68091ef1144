/**
 * Issue 11 point 2: the packed dkron-runner installs into an empty directory from its tarball alone
 * with the network cut, has no dependencies left to fetch and no native modules, and its installed
 * bin prints its usage. (How fast `--help` runs is bench/runner-package.ts's figure, not asserted.)
 */
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { installOffline, packRunner } from "../helpers/runner-package";
import { tempDir } from "../helpers/tmp";

const run = promisify(execFile);
const dir = tempDir("dkron-runner-pack-");
afterAll(() => dir.cleanup());

describe("the dkron-runner package", () => {
  it("installs offline from its tarball alone and runs --help", async () => {
    const { tarball, files } = await packRunner(dir.path);
    expect(files.sort()).toEqual(["bin/dkron-runner.mjs", "dist/cli.js", "dist/help.js", "package.json"]);
    expect(files.some((f) => f.endsWith(".node") || f.endsWith(".ts"))).toBe(false);

    const app = await installOffline(tarball, dir.path);
    // Nothing but the runner itself was installed: ws, zod and undici travel inside dist/cli.js.
    expect(readdirSync(join(app, "node_modules")).filter((n) => !n.startsWith("."))).toEqual([
      "dkron-runner",
    ]);
    const { stdout } = await run(join(app, "node_modules", ".bin", "dkron-runner"), ["--help"], { cwd: app });
    expect(stdout).toMatch(/^Usage: dkron-runner <command>/);
    expect(stdout).toContain("join <control-url> --token <join-token>");
    const join_ = await run(join(app, "node_modules", ".bin", "dkron-runner"), ["join", "--help"], {
      cwd: app,
    });
    expect(join_.stdout).toContain("--gossip-join H:P");
  }, 60_000);
});
