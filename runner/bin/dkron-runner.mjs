#!/usr/bin/env node
// Entry for the `dkron-runner` CLI: the compiled bundle (npm run build:runner), no TypeScript at run time.
let cli;
try {
  cli = await import("../dist/cli.js");
} catch (err) {
  // In a checkout the bundle is built by `npm install` (prepare) or `npm run build:runner`; a packed
  // tarball always carries it. Say so instead of a module-resolution stack trace.
  if (err?.code !== "ERR_MODULE_NOT_FOUND" || !String(err.message).includes("dist/cli.js")) throw err;
  process.stderr.write(
    "dkron-runner: the runner is not built here (dist/cli.js is missing): run `npm run build:runner`\n",
  );
  process.exit(1);
}
await cli.main(process.argv.slice(2));
