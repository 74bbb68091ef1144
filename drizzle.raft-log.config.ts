import { defineConfig } from "drizzle-kit";

// The Raft log's tables (raft.db); drizzle.config.ts covers the state tables (state.db). Both write
// under migrations/, and `npm run db:generate` runs both.
export default defineConfig({
  dialect: "sqlite",
  schema: "./control/store/raft-log-schema.ts",
  out: "./migrations/raft-log",
});
