import { defineConfig } from "drizzle-kit";

// The state-machine tables (state.db); drizzle.raft-log.config.ts covers the Raft log (raft.db). Both
// write under migrations/, are applied at start-up, and `npm run db:generate` runs both.
export default defineConfig({
  dialect: "sqlite",
  schema: "./control/store/schema.ts",
  out: "./migrations/state",
});
