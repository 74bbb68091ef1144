/**
 * The job and execution calls the cluster tests make through a node's API, with the assertion that
 * the API took each; apart from cluster.ts so the benches that start a TestCluster do not load vitest.
 */
import { expect } from "vitest";
import { waitFor } from "./agent-process";
import { getJson, postManualJob, type TestCluster } from "./cluster";

/** Creates a `@manually` job running `command` through a shell on the targets `tags` select; asserts the API took it. */
export async function postShellJob(
  url: string,
  name: string,
  tags: Record<string, string>,
  command: string,
): Promise<void> {
  const r = await postManualJob(url, name, { executor_config: { command, shell: "true" }, tags });
  expect(r.status, await r.text()).toBeLessThan(300);
}

/** Runs the job now (POST /v1/jobs/<name>) through the node at `url`; asserts the API took it. */
export async function runJob(url: string, name: string): Promise<void> {
  const r = await fetch(`${url}/v1/jobs/${name}`, { method: "POST" });
  expect(r.status, await r.text()).toBeLessThan(300);
}

/** The fields of an execution in GET /v1/jobs/<job>/executions that cluster tests read. */
export interface ExecJson {
  id: string;
  node_name: string;
  state: string;
  output: string;
}

/** The job's executions as the current leader lists them; undefined while no leader is agreed or it does not answer. */
export async function leaderExecutions(c: TestCluster, job: string): Promise<ExecJson[] | undefined> {
  const l = await c.leader();
  return l ? getJson<ExecJson[]>(`${l.url}/v1/jobs/${job}/executions`, 5000) : undefined;
}

/** Waits for the job's executions to number `count`, none running, and returns them. */
export function settledExecutions(
  c: TestCluster,
  job: string,
  count: number,
  timeoutMs = 30_000,
): Promise<ExecJson[]> {
  return waitFor(
    `${count} finished executions of ${job}`,
    async () => {
      const es = await leaderExecutions(c, job);
      return es && es.length >= count && es.every((e) => e.state !== "running") ? es : undefined;
    },
    timeoutMs,
  );
}
