import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentConfigSchema } from "../../control/config";
import { createControlNode, type World } from "../../control/main";
import type { ControlNode } from "../../control/node";
import { systemClock } from "../../shared/clock";
import { silentLogger } from "../../shared/logger";
import { adminTokenOf, fetchWithToken, waitFor } from "../helpers/agent-process";
import { tempDir } from "../helpers/tmp";

// Dkron's own artefacts against the real node (edge /v1 → control → Raft → SQLite → local runner):
// its sample backup (test/fixtures/README.md) and the getting-started job of its 1.x docs.

const BACKUP = readFileSync(new URL("../fixtures/dkron-backup.json", import.meta.url), "utf8");
const URL_WARNING = "executor_config.url must be an absolute http:// or https:// URL";

let node: ControlNode;
let base = "";
const dir = tempDir();

beforeAll(async () => {
  const world: World = {
    clock: systemClock,
    logger: silentLogger,
    random: Math.random,
    secret: () => randomBytes(16).toString("hex"),
    fetch: (input, init) => globalThis.fetch(input, init),
    spawn,
    announce: () => undefined,
  };
  const config = AgentConfigSchema.parse({
    server: true,
    bootstrap_expect: 1,
    node_name: "compat-node",
    data_dir: join(dir.path, "data"),
    http_addr: "127.0.0.1:0",
    runner_settle: 2000,
  });
  node = createControlNode(config, world);
  await node.start();
  base = `http://${node.address}`;
  token = await adminTokenOf(config.data_dir);
});

// The embedded default checks tokens: every call here carries the admin token the first start wrote.
let token = "";
const fetch = fetchWithToken(() => token);

afterAll(async () => {
  await node.stop();
  dir.cleanup();
});

interface JobBody {
  name: string;
  success_count: number;
  error_count: number;
  status: string;
  parent_job: string;
  dependent_jobs: string[] | null;
  disabled: boolean;
  warnings?: string[];
}
interface ExecutionBody {
  state: string;
  success: boolean;
  output: string;
  node_name: string;
}

/** `curl localhost:8080/v1/restore --form 'file=@backup.json'`: a multipart form with the file part. */
function restore(content: string) {
  const form = new FormData();
  form.append("file", new Blob([content], { type: "application/octet-stream" }), "backup.json");
  return fetch(`${base}/v1/restore`, { method: "POST", body: form });
}
const post = (path: string, body?: unknown) =>
  fetch(`${base}${path}`, { method: "POST", ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
const get = async <T>(path: string) => (await (await fetch(`${base}${path}`)).json()) as T;

async function finished(job: string): Promise<ExecutionBody> {
  return waitFor(`a finished execution of ${job}`, async () => {
    const ex = await get<ExecutionBody[]>(`/v1/jobs/${job}/executions`);
    return ex.find((e) => e.state !== "running");
  });
}

describe("Dkron's sample backup (scripts/testBackupJobs.json)", () => {
  it("restores all eight jobs with their parent/child links, reporting the placeholder url per job", async () => {
    const r = await restore(BACKUP);
    expect(r.status).toBe(200);
    const results = (await r.json()) as string[];
    // Dkron's order (each root, then its subtree depth-first) and words; Dkron's own test checks
    // that no result says "fail".
    expect(results).toEqual(
      ["task1", "task2", "task3", "task4", "task5", "task6", "task8", "task7"].map(
        (n) => `success create ${n} (warning: ${URL_WARNING})`,
      ),
    );
    expect(results.join("\n")).not.toContain("fail");

    const jobs = await get<JobBody[]>("/v1/jobs?q=task");
    const links = Object.fromEntries(jobs.map((j) => [j.name, [j.parent_job, j.dependent_jobs]]));
    expect(links).toEqual({
      task1: ["", null],
      task2: ["", ["task3"]],
      task3: ["task2", null],
      task4: ["", ["task5"]],
      task5: ["task4", ["task6", "task7"]],
      task6: ["task5", ["task8"]],
      task7: ["task5", null],
      task8: ["task6", null],
    });
    // The links are the file's own: every dependent_jobs list in the backup is what we now answer.
    const file = JSON.parse(BACKUP) as { name: string; dependent_jobs: string[] | null }[];
    for (const j of file) expect(links[j.name]![1], j.name).toEqual(j.dependent_jobs);
    for (const j of jobs) expect(j.warnings, j.name).toEqual([URL_WARNING]);
    // "This will restore all jobs and counters as they were in the export file" (Dkron's docs).
    for (const j of jobs) {
      expect(j, j.name).toMatchObject({
        success_count: 26,
        error_count: 6,
        last_success: "2019-11-04T04:37:12.396Z",
        last_error: "2019-11-27T15:17:47.925Z",
        status: "success",
      });
    }
  });

  it("fails a restored job's runs with an output naming the bad url, and runs none of its children", async () => {
    expect((await post("/v1/jobs/task2/run")).status).toBe(200);
    const e = await finished("task2");
    expect(e.success).toBe(false);
    expect(e.state).toBe("failed");
    expect(e.output).toContain(URL_WARNING);
    const job = await get<{ status: string; error_count: number }>("/v1/jobs/task2");
    expect(job).toMatchObject({ status: "failed", error_count: 7 });
    // task3 runs only after task2 succeeds.
    expect(await get<unknown[]>("/v1/jobs/task3/executions")).toEqual([]);
  });

  it("keeps the warnings while the job is only toggled, and drops them once the job is fixed", async () => {
    const toggled = (await (await post("/v1/jobs/task7/toggle")).json()) as JobBody;
    expect(toggled).toMatchObject({ disabled: true, warnings: [URL_WARNING] });
    // The API itself refuses the placeholder: the job has to be fixed to be written through it.
    const task1 = await get<JobBody & { executor_config: Record<string, string> }>("/v1/jobs/task1");
    const refused = await post("/v1/jobs", task1);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { field: string } }).error.field).toBe("executor_config.url");
    const fixed = await post("/v1/jobs", {
      ...task1,
      executor_config: { ...task1.executor_config, url: "http://127.0.0.1:9/" },
    });
    expect(fixed.status).toBe(201);
    const body = (await fixed.json()) as JobBody;
    expect(body.warnings).toBeUndefined();
    expect((await get<JobBody>("/v1/jobs/task1")).warnings).toBeUndefined();
  });
});

describe("restore of a file Dkron would refuse in part or whole", () => {
  it("stores what Dkron would store and reports each job it would not, with its children", async () => {
    const shell = (name: string, over: Record<string, unknown> = {}) => ({
      name,
      schedule: "@manually",
      executor: "shell",
      executor_config: { command: "true" },
      ...over,
    });
    const r = await restore(
      JSON.stringify([
        shell("mixed-ok"),
        shell("mixed-bad-schedule", { schedule: "every day" }),
        shell("mixed-kid", { parent_job: "mixed-bad-schedule", schedule: "" }),
        shell("mixed-orphan", { parent_job: "nowhere" }),
        shell("mixed-retries", { retries: 500 }),
      ]),
    );
    expect(r.status).toBe(200);
    const results = (await r.json()) as string[];
    expect(results[0]).toBe("success create mixed-ok");
    expect(results[1]).toMatch(/^fail create mixed-bad-schedule: schedule: /);
    expect(results.slice(2)).toEqual([
      'fail create mixed-kid: parent job "mixed-bad-schedule" was not created',
      "fail create mixed-orphan: specified parent job not found",
      "success create mixed-retries (warning: retries: at most 100)",
    ]);
    const names = (await get<JobBody[]>("/v1/jobs?q=mixed-")).map((j) => j.name);
    expect(names).toEqual(["mixed-ok", "mixed-retries"]);
  });

  it("refuses a file that is not a list of jobs whole, creating nothing", async () => {
    const before = (await fetch(`${base}/v1/jobs`)).headers.get("x-total-count");
    const cases: [string, string][] = [
      ['{"name":"whole-a","schedule":"@daily","executor":"shell"}', "file"],
      ['[{"name":"whole-b","schedule":"@daily","executor":"shell"}, 7]', "file[1]"],
      ["[null]", "file[0]"],
      ["[{", "file"],
    ];
    for (const [content, field] of cases) {
      const r = await restore(content);
      expect(r.status, content).toBe(400);
      expect(((await r.json()) as { error: { field: string } }).error.field, content).toBe(field);
    }
    expect((await fetch(`${base}/v1/jobs/whole-b`)).status).toBe(404);
    expect((await fetch(`${base}/v1/jobs`)).headers.get("x-total-count")).toBe(before);
  });
});

describe("Dkron 1.x tag names", () => {
  it("control nodes carry dkron_server, dkron_version and dkron_rpc_addr beside today's names", async () => {
    const status = await get<{ tags: Record<string, string> }>("/v1/");
    expect(status.tags).toMatchObject({ server: "true", dkron_server: "true" });
    expect(status.tags.dkron_version).toBe(status.tags.version);
    expect(status.tags.dkron_rpc_addr).toBe(status.tags.rpc_addr);
    const [me] = await get<{ Tags: Record<string, string> }[]>("/v1/members");
    expect(me!.Tags.dkron_server).toBe("true");
  });

  it("runs the getting-started job of Dkron 1.x's docs on one server", async () => {
    // website/versioned_docs/version-v1/basics/getting-started.md, verbatim.
    const job1 = {
      name: "job1",
      schedule: "@every 10s",
      timezone: "Europe/Berlin",
      owner: "Platform Team",
      owner_email: "platform@example.com",
      disabled: false,
      tags: { dkron_server: "true:1" },
      concurrency: "allow",
      executor: "shell",
      executor_config: { command: "date" },
    };
    expect((await post("/v1/jobs", job1)).status).toBe(201);
    expect((await post("/v1/jobs/job1/run")).status).toBe(200);
    const e = await finished("job1");
    expect(e).toMatchObject({ success: true, node_name: "compat-node" });
    expect(e.output).toMatch(/\d{4}/); // date printed the year
  });
});
