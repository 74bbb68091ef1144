import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The seed every fuzz property of this run uses (test/fuzz/fuzz.ts). */
    fuzzSeed: number;
  }
}

/**
 * Picks the one seed of this vitest run's fuzz properties (FUZZ_SEED, or a fresh one) and prints it
 * once, so a failure in CI can be replayed; each test file reads it with inject("fuzzSeed").
 */
export default function setup(project: TestProject): void {
  const given = process.env.FUZZ_SEED;
  // The seed itself is the one thing here that must differ run to run: fuzzing explores new inputs.
  const seed = given !== undefined && given !== "" ? Number(given) : (Math.random() * 2 ** 31) | 0;
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got "${given}"`);
  console.log(`fuzz seed ${seed} (replay: FUZZ_SEED=${seed} npx vitest run test/fuzz)`);
  project.provide("fuzzSeed", seed);
}
