import { relative } from "node:path";
import fc from "fast-check";
import { afterAll, expect, inject, it } from "vitest";
import { answerStats } from "./world";

/**
 * How the fuzz properties run, from the environment:
 *
 *   FUZZ_SEED  the seed of every property in the run (default: a fresh one, printed once at the start
 *              by test/fuzz/global-setup.ts); a failing property prints the seed it ran with
 *   FUZZ_PATH  with FUZZ_SEED, replays the one (shrunk) case a failure printed instead of searching
 *   FUZZ_RUNS  runs per property instead of each property's default (a long local run: FUZZ_RUNS=2000)
 *
 * A failure prints the exact command that replays it: FUZZ_SEED=… FUZZ_PATH=… npx vitest run <file> -t <name>.
 * docs/testing.md describes the suite, its properties and these variables.
 */
export const fuzzEnv = {
  seed: seedFromEnv(),
  path: process.env.FUZZ_PATH || undefined,
  runs: runsFromEnv(),
  /**
   * FUZZ_STATS=1 prints how often each answer (method, route, status, code) came up, to tune the
   * generators; FUZZ_STATS=2 tells errors apart by the start of their message too.
   */
  stats: Boolean(process.env.FUZZ_STATS),
};

if (fuzzEnv.stats) {
  afterAll(() => {
    const rows = [...answerStats]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `  ${String(n).padStart(6)}  ${k}`);
    console.log(`answers:\n${rows.join("\n")}`);
  });
}

function seedFromEnv(): number {
  const given = process.env.FUZZ_SEED;
  if (given !== undefined && given !== "") return Number(given);
  // Provided by the global setup; a run without it (another config) falls back to a fixed seed.
  return inject("fuzzSeed") ?? 1;
}

function runsFromEnv(): number | undefined {
  const given = process.env.FUZZ_RUNS;
  if (given === undefined || given === "") return undefined;
  const n = Number(given);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`FUZZ_RUNS must be a positive integer, got "${given}"`);
  return n;
}

/**
 * One fuzz property as a vitest test: `check` runs on `runs` values of `arb` (FUZZ_RUNS overrides)
 * with the run's seed; a failure is reported with fast-check's shrunk counterexample and the command
 * that replays it.
 */
export function fuzz<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  check: (value: T) => Promise<void>,
  runs: number,
) {
  const numRuns = fuzzEnv.runs ?? runs;
  // A hang guard, not a timing assertion: generous per run, so a long FUZZ_RUNS session is not cut.
  const timeout = Math.max(60_000, numRuns * 2_000);
  it(
    name,
    async () => {
      const details = await fc.check(fc.asyncProperty(arb, check), {
        seed: fuzzEnv.seed,
        numRuns,
        ...(fuzzEnv.path !== undefined && { path: fuzzEnv.path }),
      });
      if (!details.failed) return;
      const file = relative(process.cwd(), expect.getState().testPath ?? "test/fuzz");
      const replay =
        `FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath ?? ""} ` +
        `npx vitest run ${file} -t ${JSON.stringify(name)}`;
      const why =
        details.errorInstance instanceof Error
          ? details.errorInstance.message
          : String(details.errorInstance);
      throw new Error(
        `fuzz property failed: ${why}\n\nreplay it with\n  ${replay}\n\n${fc.defaultReportMessage(details)}`,
        { cause: details.errorInstance },
      );
    },
    timeout,
  );
}
