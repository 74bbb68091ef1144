#!/usr/bin/env node
// Entry for the `dkron-runner` CLI: the compiled bundle (npm run build:runner), no TypeScript at run time.
const { main } = await import("../dist/cli.js");
await main(process.argv.slice(2));
