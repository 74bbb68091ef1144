/**
 * Issue 11 point 2's figure: how long the installed `dkron-runner --help` takes (target < 1 s),
 * beside `node -e 0` in the same run (Node's own start-up, the floor), plus the tarball's size and
 * how long the offline install took. Packs runner/ and installs it offline as the test does.
 *
 * Run: node --import tsx bench/runner-package.ts [runs]   (default 20)
 */
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { installOffline, packRunner } from "../test/helpers/runner-package";
import { tempDir } from "../test/helpers/tmp";
import { reportFigures } from "./report";
import { percentile } from "./stats";

const runs = Number(process.argv[2] ?? 20);
const dir = tempDir("dkron-runner-bench-");
try {
  const { tarball } = await packRunner(dir.path);
  const t0 = performance.now();
  const app = await installOffline(tarball, dir.path);
  const installMs = performance.now() - t0;
  const bin = join(app, "node_modules", ".bin", "dkron-runner");
  const time = (cmd: string, args: string[]): number[] => {
    const xs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      execFileSync(cmd, args, { cwd: app, stdio: "ignore" });
      xs.push(performance.now() - t);
    }
    return xs;
  };
  // Interleaved would be fairer under load; alternate blocks and take both twice.
  const base = [...time(process.execPath, ["-e", "0"])];
  const help = [...time(bin, ["--help"])];
  // As the issue words it: through npx in the install dir (npx finds the local bin; no network).
  const npx = [...time("npx", ["--offline", "--no-install", "dkron-runner", "--help"])];
  base.push(...time(process.execPath, ["-e", "0"]));
  help.push(...time(bin, ["--help"]));
  npx.push(...time("npx", ["--offline", "--no-install", "dkron-runner", "--help"]));
  const row = (name: string, xs: number[]) =>
    `${name.padEnd(28)} p50 ${percentile(xs, 50).toFixed(0).padStart(5)} ms   p99 ${percentile(xs, 99).toFixed(0).padStart(5)} ms`;
  process.stdout.write(
    [
      `tarball ${(statSync(tarball).size / 1024).toFixed(0)} KiB; offline install ${installMs.toFixed(0)} ms; ${2 * runs} runs each`,
      row("node -e 0 (baseline)", base),
      row("dkron-runner --help", help),
      row("npx dkron-runner --help", npx),
      `ratio p50 ${(percentile(help, 50) / percentile(base, 50)).toFixed(2)}x; target: --help under 1000 ms`,
    ].join("\n") + "\n",
  );
  const reproduce = `node --import tsx bench/runner-package.ts ${runs}`;
  const baseline = percentile(base, 50);
  const baselineWhat = "node -e 0";
  reportFigures("runner-package", [
    {
      figure: "installed dkron-runner --help, p50",
      ours: percentile(help, 50),
      unit: "ms",
      baseline,
      baselineWhat,
      target: { max: 1000 },
      reproduce,
    },
    {
      figure: "npx dkron-runner --help (offline), p50",
      ours: percentile(npx, 50),
      unit: "ms",
      baseline,
      baselineWhat,
      target: { max: 1000 },
      reproduce,
    },
  ]);
} finally {
  dir.cleanup();
}
