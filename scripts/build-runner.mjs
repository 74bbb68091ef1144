// Builds the dkron-runner package's JavaScript: runner/cli.ts and what it imports (shared/ too)
// bundled into runner/dist/cli.js, so the published runner needs no TypeScript or tsx at run time.
// Only ws, zod and undici stay outside the bundle (they are the package's dependencies).

import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
await build({
  entryPoints: [`${root}runner/cli.ts`],
  outfile: `${root}runner/dist/cli.js`,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20.18",
  external: ["ws", "zod", "undici"],
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
});
