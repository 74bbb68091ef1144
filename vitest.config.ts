import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["{shared,control,runner,edge,test}/**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Picks and prints the seed of the fuzz properties (test/fuzz/fuzz.ts, docs/testing.md).
    globalSetup: ["test/fuzz/global-setup.ts"],
  },
});
