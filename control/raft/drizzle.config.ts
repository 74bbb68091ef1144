import { defineConfig } from "drizzle-kit";

// The Raft log store's own migrations (the root drizzle.config.ts covers the state tables). Run:
//   npx drizzle-kit generate --config control/raft/drizzle.config.ts
export default defineConfig({
  dialect: "sqlite",
  schema: "./control/raft/log-schema.ts",
  out: "./control/raft/migrations",
});
