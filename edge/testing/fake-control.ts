import type { ControlClient, ExecutionJson } from "../../shared";
import {
  AppError,
  aliveMember,
  type ControlInput,
  type ControlMethod,
  ControlParams,
  type ControlResults,
  type CreatedWebhookJson,
  hookPath,
  type Job,
  JobInputSchema,
  type JobJson,
  jobToJson,
  type Member,
  type NodeStatus,
  parseOrThrow,
  previewExpression,
} from "../../shared";

// An in-memory ControlClient for edge tests. It validates params with the contract's own schemas, so
// a route that sends something control would refuse fails here too.

/** One recorded call: the method and the params exactly as the edge sent them. */
export interface RecordedCall {
  method: ControlMethod;
  params: unknown;
}

/** Builds a stored job in Dkron's JSON shape from a few fields. */
export function buildJob(over: Partial<Job> & { name: string }): JobJson {
  const spec = parseOrThrow(JobInputSchema, { schedule: "@every 1m", executor: "shell", ...over }, "job");
  return jobToJson({
    success_count: 0,
    error_count: 0,
    last_success: null,
    last_error: null,
    skipped_count: 0,
    last_skipped: null,
    status: "",
    next: null,
    dependent_jobs: [],
    ...over,
    ...spec,
  });
}

/** Builds an execution in Dkron's JSON shape. */
export function buildExecution(
  over: Partial<ExecutionJson> & { id: string; job_name: string },
): ExecutionJson {
  return {
    started_at: "2026-01-01T00:00:00.000Z",
    finished_at: "2026-01-01T00:00:01.000Z",
    success: true,
    output: "",
    node_name: "node-1",
    group: 1,
    attempt: 1,
    scheduled_at: "2026-01-01T00:00:00.000Z",
    state: "success",
    trigger: "schedule",
    exit_code: 0,
    dispatched_at: "2026-01-01T00:00:00.000Z",
    start_lateness_ms: 0,
    ...over,
  };
}

/** Builds a member in Dkron's /v1/members shape. */
export function buildMember(name: string): Member {
  return { ...aliveMember(name, "127.0.0.1", 8946, { role: "dkron" }), id: `id-${name}` };
}

const JOB_SORTS = new Set(["name", "displayname", "schedule", "success_count", "error_count", "next"]);

function sortBy<T>(items: T[], key: string, order: "ASC" | "DESC"): T[] {
  const dir = order === "DESC" ? -1 : 1;
  return [...items].sort((a, b) => {
    const x = (a as Record<string, unknown>)[key] as string | number;
    const y = (b as Record<string, unknown>)[key] as string | number;
    return x < y ? -dir : x > y ? dir : 0;
  });
}

/** The methods the edge's unit tests exercise; others (tokens, audit) are tested against the real service. */
type Handlers = { [M in ControlMethod]?: (p: ControlInput<M>) => ControlResults[M] };

/** The fake: public state to arrange and inspect, `calls` to assert what the edge sent. */
export class FakeControl implements ControlClient {
  readonly calls: RecordedCall[] = [];
  readonly jobs = new Map<string, JobJson>();
  readonly executions = new Map<string, ExecutionJson[]>();
  members: Member[] = [buildMember("node-1"), buildMember("node-2")];
  leader: Member | null = this.members[0] ?? null;
  raftState = "leader";
  paused = false;
  busy: ExecutionJson[] = [];
  /** Control's clock as `schedule.preview` reads it: 2026-01-01T00:00:00Z. */
  now = Date.UTC(2026, 0, 1);
  /** Webhooks by id, with their secrets (the fake does not check signatures: control does). */
  readonly hooks = new Map<string, CreatedWebhookJson>();
  /** Errors to throw on the next call of a method (once). */
  readonly failures = new Map<ControlMethod, AppError>();

  /** Puts jobs in the store. */
  withJobs(...jobs: JobJson[]): this {
    for (const j of jobs) this.jobs.set(j.name, j);
    return this;
  }

  /** The params of the last call of `method`. */
  lastParams<M extends ControlMethod>(method: M): ControlInput<M> | undefined {
    return this.calls.findLast((c) => c.method === method)?.params as ControlInput<M> | undefined;
  }

  async call<M extends ControlMethod>(method: M, params: ControlInput<M>): Promise<ControlResults[M]> {
    this.calls.push({ method, params });
    // Round-trip through JSON as the real client does, then validate as the real control does.
    const wire: unknown = JSON.parse(JSON.stringify(params ?? {}));
    parseOrThrow(ControlParams[method], wire, `invalid params for ${method}`);
    const failure = this.failures.get(method);
    if (failure) {
      this.failures.delete(method);
      throw failure;
    }
    const handler = this.handlers[method] as ((p: ControlInput<M>) => ControlResults[M]) | undefined;
    if (!handler) throw new AppError("NOT_FOUND", `the fake control has no ${method}`);
    return JSON.parse(JSON.stringify(handler(params)));
  }

  private hook(id: string): CreatedWebhookJson {
    const hook = this.hooks.get(id);
    if (!hook) throw new AppError("NOT_FOUND", `webhook "${id}" not found`, { field: "id" });
    return hook;
  }

  private job(name: string): JobJson {
    const job = this.jobs.get(name);
    if (!job) throw new AppError("NOT_FOUND", `job ${name} not found`, { field: "job" });
    return job;
  }

  private readonly handlers: Handlers = {
    status: (): NodeStatus => ({
      agent: { name: "node-1", version: "0.1.0" },
      serf: {},
      tags: { role: "dkron" },
      raft: {
        state: this.raftState,
        term: 1,
        leader: "127.0.0.1:6868",
        commit_index: 1,
        applied_index: 1,
        last_log_index: 1,
        last_snapshot_index: 0,
        log_syncs: 1,
        log_synced_entries: 1,
      },
    }),
    "members.list": () => this.members,
    "leader.get": () => this.leader,
    leave: () => ({ left: "node-1" }),
    busy: () => this.busy,
    "pause.get": () => ({ paused: this.paused }),
    "pause.set": (p) => {
      this.paused = p.paused;
      return { paused: this.paused };
    },
    "jobs.list": (input) => {
      const p = ControlParams["jobs.list"].parse(input);
      if (!JOB_SORTS.has(p.sort))
        throw new AppError("VALIDATION", `cannot sort by ${p.sort}`, { field: "sort" });
      let items = [...this.jobs.values()].filter(
        (j) =>
          (p.q === undefined || j.name.includes(p.q) || j.displayname.includes(p.q)) &&
          (p.status === undefined || j.status === (p.status === "untriggered" ? "" : p.status)) &&
          (p.disabled === undefined || String(j.disabled) === p.disabled) &&
          Object.entries(p.metadata ?? {}).every(([k, v]) => j.metadata?.[k] === v),
      );
      const total = items.length;
      items = sortBy(items, p.sort, p.order).slice(p.start, p.end);
      return { total, items };
    },
    "jobs.get": (p) => this.job(p.name),
    "schedule.preview": (input) => {
      const p = ControlParams["schedule.preview"].parse(input);
      return previewExpression({ ...p, from: p.from ?? this.now });
    },
    "jobs.put": (input) => {
      const p = ControlParams["jobs.put"].parse(input);
      if (this.paused) throw new AppError("PAUSED", "new job submissions are currently paused");
      const spec = parseOrThrow(JobInputSchema, p.job, "invalid job");
      if (p.path_name !== undefined && p.path_name !== spec.name) {
        throw new AppError("VALIDATION", `path names job ${p.path_name} but the body names ${spec.name}`, {
          field: "name",
        });
      }
      const prev = this.jobs.get(spec.name);
      const stored = { ...buildJob(spec), success_count: prev?.success_count ?? 0 };
      this.jobs.set(stored.name, stored);
      return stored;
    },
    "jobs.delete": (p) => {
      const job = this.job(p.name);
      this.jobs.delete(p.name);
      return job;
    },
    "jobs.run": (p) => this.job(p.name),
    "jobs.toggle": (p) => {
      const job = { ...this.job(p.name) };
      job.disabled = !job.disabled;
      this.jobs.set(job.name, job);
      return job;
    },
    "executions.list": (input) => {
      const p = ControlParams["executions.list"].parse(input);
      this.job(p.job);
      const all = sortBy(this.executions.get(p.job) ?? [], p.sort, p.order);
      const items = all.slice(p.start, p.end).map((e) => {
        const limit = p.output_size_limit;
        if (limit === undefined) return e;
        const truncated = e.output.length > limit;
        return {
          ...e,
          output: truncated ? e.output.slice(e.output.length - limit) : e.output,
          output_truncated: truncated,
        };
      });
      return { total: all.length, items };
    },
    "executions.get": (p) => {
      this.job(p.job);
      const e = (this.executions.get(p.job) ?? []).find((x) => x.id === p.id);
      if (!e) throw new AppError("NOT_FOUND", `execution ${p.id} of job ${p.job} not found`);
      return e;
    },
    "executions.clear": (p) => {
      const job = {
        ...this.job(p.job),
        success_count: 0,
        error_count: 0,
        last_success: null,
        last_error: null,
      };
      this.executions.delete(p.job);
      this.jobs.set(job.name, job);
      return job;
    },
    "webhooks.create": (p) => {
      const job = (p.hook as { job?: unknown } | null)?.job;
      if (typeof job !== "string")
        throw new AppError("VALIDATION", "webhook: job: required", { field: "job" });
      this.job(job);
      const id = `hook${this.hooks.size + 1}`;
      const hook = {
        id,
        job,
        created_at: "2026-01-01T00:00:00.000Z",
        last_delivery_at: null,
        url: hookPath(id),
        secret: `whsec_${id}`,
      };
      this.hooks.set(id, hook);
      return hook;
    },
    "webhooks.list": (p) =>
      [...this.hooks.values()]
        .filter((h) => p.job === undefined || h.job === p.job)
        .map(({ secret: _, ...h }) => h),
    "webhooks.get": (p) => {
      const { secret: _, ...h } = this.hook(p.id);
      return h;
    },
    "webhooks.delete": (p) => {
      const { secret: _, ...h } = this.hook(p.id);
      this.hooks.delete(p.id);
      return h;
    },
    "hooks.deliver": (p) => {
      const hook = this.hook(p.id);
      return { execution_id: "x1", executions: ["x1"], job: hook.job, delivery: p.headers.delivery ?? "sig" };
    },
    restore: (input) => {
      const jobs = input.jobs as unknown[];
      return jobs.map((raw) => {
        const name = (raw as { name?: unknown }).name;
        try {
          this.handlers["jobs.put"]?.({ job: raw });
          return `success create ${String(name)}`;
        } catch {
          return `fail create ${String(name)}`;
        }
      });
    },
  };
}
