import { MemoryLogStore } from "./log-store";
import { runLogStoreContract } from "./log-store.contract";

// The SQLite store runs the same contract in control/store/raft-log-store.test.ts.
runLogStoreContract("memory", () => {
  const store = new MemoryLogStore();
  return { open: () => store, reopen: () => store, cleanup: () => {} };
});
