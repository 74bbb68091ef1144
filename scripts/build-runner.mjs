// Builds the dkron-runner package's JavaScript: runner/cli.ts and what it imports (shared/ too)
// bundled into runner/dist/cli.js, so the published runner needs no TypeScript or tsx at run time.
// ws, zod and undici are bundled too, so the package has no runtime dependencies: its tarball installs
// offline with nothing to fetch. (npm's bundleDependencies does not work here: under npm workspaces
// the three are hoisted to the root node_modules, and `npm pack ./runner` then packs none of them.)
// ws's optional native speed-ups stay out: it requires them inside try/catch and runs without them.

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
  external: ["bufferutil", "utf-8-validate"],
  sourcemap: false,
  legalComments: "none",
  // The CommonJS inside (ws, undici) calls require(); an ES module has none, so give it one.
  banner: {
    js: 'import { createRequire as __dkronRequire } from "node:module"; const require = __dkronRequire(import.meta.url);',
  },
  logLevel: "warning",
});
// The top-level help alone, so `dkron-runner --help` does not parse the whole bundle.
await build({
  entryPoints: [`${root}runner/cli-help.ts`],
  outfile: `${root}runner/dist/help.js`,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20.18",
  legalComments: "none",
  logLevel: "warning",
});
