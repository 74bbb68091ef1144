#!/usr/bin/env node
// Entry for the `dkron` CLI: loads the TypeScript sources through tsx (no build step).
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli.ts");
await main(process.argv.slice(2));
