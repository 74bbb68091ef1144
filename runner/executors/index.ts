import type { Executor } from "./executor";
import { createHttpExecutor, type HttpExecutorDeps } from "./http";
import { createShellExecutor, type ShellExecutorDeps } from "./shell";

export type { ExecuteRequest, ExecuteResult, ExecutionIdentity, Executor } from "./executor";
export { OUTPUT_TAIL_BYTES } from "./executor";
export { createHttpExecutor, type HttpExecutorDeps, IDENTITY_HEADERS } from "./http";
export { createShellExecutor, type ShellExecutorDeps } from "./shell";
export { directSpawn, Spawner, type SpawnFn } from "./spawner";

/** Dependencies of every built-in executor (each takes the ones it uses). */
export type ExecutorsDeps = ShellExecutorDeps & HttpExecutorDeps;

/** The executors this runner offers, by Dkron executor name (`shell`, `http`). */
export function createExecutors(deps: ExecutorsDeps = {}): Map<string, Executor> {
  const executors = [createShellExecutor(deps), createHttpExecutor(deps)];
  return new Map(executors.map((e) => [e.name, e]));
}
