import { defineConfig } from "drizzle-kit";

// State-machine tables; migrations are generated into migrations/ and applied at start-up.
export default defineConfig({
  dialect: "sqlite",
  schema: "./control/store/schema.ts",
  out: "./migrations",
});
