#!/usr/bin/env node
// Entry for the `dkron-runner` CLI: the compiled bundle (npm run build:runner), no TypeScript at run time.
const argv = process.argv.slice(2);
// The top-level help comes from a bundle of a few hundred bytes: no ws, zod or undici to parse.
const justHelp = argv.length === 0 || (argv.length === 1 && ["--help", "-h", "help"].includes(argv[0]));
let cli;
try {
  cli = await import(justHelp ? "../dist/help.js" : "../dist/cli.js");
} catch (err) {
  // In a checkout the bundle is built by `npm install` (prepare) or `npm run build:runner`; a packed
  // tarball always carries it. Say so instead of a module-resolution stack trace.
  if (err?.code !== "ERR_MODULE_NOT_FOUND" || !/dist\/(cli|help)\.js/.test(String(err.message))) throw err;
  process.stderr.write(
    "dkron-runner: the runner is not built here (dist/ is missing): run `npm run build:runner`\n",
  );
  process.exit(1);
}
if (justHelp) process.stdout.write(cli.HELP);
else await cli.main(argv);
