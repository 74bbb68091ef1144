import type { Clock, ControlMethod, ControlParamsOf, ControlResults, Logger } from "../../shared";
import {
  ANONYMOUS_CALLER,
  AppError,
  aliveMember,
  type Caller,
  controlGossipSeeds,
  executionToJson,
  grants,
  isAppError,
  type JobJson,
  type Member,
  MemberStatus,
  parseOrThrow,
  previewExpression,
  splitHostPort,
  TokenCreateSchema,
} from "../../shared";
import {
  ACCESS,
  type Authenticator,
  authorize,
  coversJob,
  type Identity,
  mintToken,
  mustCoverJob,
} from "../auth";
import type { PeerBook } from "../cluster";
import type { Consensus } from "../consensus";
import type { Dispatcher } from "../dispatch";
import type { AuditStamp, Command } from "../fsm";
import type { Runners } from "../hub";
import { planRestore, restoreResult, validateJob } from "../jobs";
import { nextFire, previewJob } from "../scheduler";
import type { StateDb, StoredJob } from "../store";
import {
  getExecution,
  getJobRow,
  getStoredJob,
  getToken,
  isExecutionSort,
  listTokens,
  pageExecutions,
} from "../store";
import { listAudit } from "./audit-list";
import { DashboardService } from "./dashboard-service";
import { jobFigures } from "./job-figures";
import { renderJob } from "./job-json";
import { listJobs } from "./job-list";
import { type GossipKeyView, KeyringService } from "./keyring-service";
import { RunnerAdminService } from "./runner-admin-service";
import { tokenToJson } from "./token-json";
import { WebhookService } from "./webhook-service";

/** What the service needs to know about its node. */
export interface NodeInfo {
  name: string;
  version: string;
  /** host:port other nodes and runners reach this node at. */
  advertise: string;
  tags: Record<string, string>;
}

/** What the service can see of the Raft group beyond consensus status (absent in harnesses). */
export interface ClusterView {
  /** Voters and learners of the current configuration. */
  conf(): { voters: string[]; learners: string[] };
  /** The leader's replication match index for a peer; undefined on followers. */
  match(id: string): number | undefined;
  /** Whether this node's Raft stream to the peer is up and the peer answers. */
  reachable(id: string): boolean;
}

/** Dependencies of the control service. */
export interface ControlServiceDeps {
  state: StateDb;
  consensus: Consensus;
  dispatcher: Dispatcher;
  /** Runners connected to this node (the leader's; none elsewhere). */
  runners: Runners;
  clock: Clock;
  node: NodeInfo;
  /** Addresses of control nodes (cluster members). */
  peers: PeerBook;
  /** Called by POST /v1/leave: stops this node gracefully. */
  leave: () => void;
  cluster?: ClusterView;
  /** Where audit records that cannot be committed (node-local actions on a follower) are written. */
  logger?: Logger;
  /** Checks callers' tokens (or lets everyone in, with auth off). */
  auth: Authenticator;
  /** Random strings of at least 16 base64url characters, for token ids and secrets. */
  secret: () => string;
  /** How long audit records are kept, in ms. */
  auditRetentionMs: number;
  /**
   * The gossip pool's members in Dkron's shape (role, version and the member's tags in Tags, status
   * alive/failed/left); undefined when this node runs no gossip member.
   */
  gossip?: () => Member[];
  /** The gossip member's keyring and the key fingerprints members advertise; undefined without gossip. */
  gossipKeys?: GossipKeyView;
}

type Handler<M extends ControlMethod> = (
  p: ControlParamsOf<M>,
  who: Identity,
) => Promise<ControlResults[M]> | ControlResults[M];

/**
 * Implements the control-api contract on a control node: reads from the local state tables,
 * writes as commands through consensus.
 */
export class ControlService {
  private paused = false;
  readonly handlers: { [M in ControlMethod]: Handler<M> };
  private readonly hooks: WebhookService;
  private readonly dashboard: DashboardService;
  private readonly runnerAdmin: RunnerAdminService;
  private readonly keyring: KeyringService;

  constructor(private readonly d: ControlServiceDeps) {
    this.hooks = new WebhookService({
      state: d.state,
      clock: d.clock,
      dispatcher: d.dispatcher,
      secret: d.secret,
      write: (cmd, who, target, detail) => this.write(cmd, who, target, detail),
      stamp: (who, action, target, detail) => this.stamp(who, action, target, detail),
    });
    this.runnerAdmin = new RunnerAdminService({
      state: d.state,
      clock: d.clock,
      runners: d.runners,
      secret: d.secret,
      write: (cmd, who, target, detail) => this.write(cmd, who, target, detail),
      requireLeader: () => this.requireLeader(),
      caughtUp: () => this.read(),
      gossipSeeds: () => controlGossipSeeds(d.gossip?.() ?? []),
    });
    this.keyring = new KeyringService({
      state: d.state,
      clock: d.clock,
      gossip: d.gossipKeys,
      write: (cmd, who, target, detail, action) => this.write(cmd, who, target, detail, action),
    });
    this.dashboard = new DashboardService({ state: d.state, clock: d.clock, dispatcher: d.dispatcher });
    this.handlers = {
      status: () => this.status(),
      "members.list": () => this.members(),
      "leader.get": () =>
        this.d.consensus.status().leader
          ? (this.members().find((m) => m.Name === this.d.consensus.status().leader) ?? null)
          : null,
      leave: async (_p, who) => {
        await this.audited(who, "leave", this.d.node.name);
        this.d.clock.setTimeout(() => this.d.leave(), 50);
        return { left: this.d.node.name };
      },
      busy: (_p, who) =>
        this.d.dispatcher
          .busy()
          .filter((e) => coversJob(who, e.job_name))
          .map((e) => executionToJson(e)),
      "pause.get": () => ({ paused: this.paused }),
      "pause.set": async (p, who) => {
        await this.audited(who, "pause.set", this.d.node.name, p.paused ? "paused" : "unpaused");
        this.paused = p.paused;
        return { paused: this.paused };
      },
      "jobs.list": (p, who) => {
        // One instant for the whole page: which jobs count as due and the `next` each shows.
        const now = this.d.clock.now();
        // A prefix-limited token sees only its jobs (coversJob), filtered in SQL.
        return listJobs(
          {
            state: this.d.state,
            now,
            render: (j) => this.render(j, who, now),
            nextOf: (j) => nextFire(j, now),
          },
          p,
          who.prefix,
        );
      },
      "jobs.get": (p, who) => {
        const job = this.mustJob(p.name);
        // Only here: the list must not cost a query per job over its history.
        const out = { ...this.render(job, who), ...jobFigures(this.d.state, job) };
        return p.next === undefined
          ? out
          : { ...out, next_runs: previewJob(job, this.d.clock.now(), p.next) };
      },
      "jobs.put": (p, who) => this.putJob(p.job, p.runoncreate, who, p.path_name),
      "jobs.delete": async (p, who) => {
        const before = this.render(this.mustJob(p.name), who);
        await this.write({ type: "job.delete", at: this.d.clock.now(), name: p.name }, who, p.name);
        return before;
      },
      "jobs.run": async (p, who) => {
        this.mustJob(p.name);
        this.requireLeader();
        const res = await this.d.dispatcher
          .run(p.name, "manual", this.d.clock.now(), undefined, {
            audit: this.stamp(who, "jobs.run", p.name),
          })
          .catch((e) => this.rethrowWithLeaderAddr(e));
        if (!res.ok) throw new AppError(res.error.code, res.error.message, res.error.details);
        return this.render(this.mustJob(p.name), who);
      },
      "jobs.toggle": async (p, who) => {
        const before = this.mustJob(p.name);
        const to = p.disabled ?? !before.spec.disabled;
        await this.write(
          {
            type: "job.toggle",
            at: this.d.clock.now(),
            name: p.name,
            ...(p.disabled === undefined ? {} : { disabled: p.disabled }),
          },
          who,
          p.name,
          to ? "disabled" : "enabled",
        );
        return this.render(this.mustJob(p.name), who);
      },
      "executions.list": (p) => {
        this.mustJob(p.job);
        if (!isExecutionSort(p.sort)) {
          throw new AppError(
            "VALIDATION",
            `_sort: unknown field "${p.sort}" (use id, started_at, finished_at, attempt or scheduled_at)`,
            { field: "_sort" },
          );
        }
        const page = pageExecutions(this.d.state, p.job, p.sort, p.order, p.start, p.end);
        const items = page.items.map((e) => executionToJson(this.d.dispatcher.view(e), p.output_size_limit));
        return { total: page.total, items };
      },
      "executions.get": (p) => {
        this.mustJob(p.job);
        const e = getExecution(this.d.state, p.job, p.id);
        if (!e)
          throw new AppError("NOT_FOUND", `execution "${p.id}" of job "${p.job}" not found`, {
            field: "execution",
          });
        return executionToJson(this.d.dispatcher.view(e));
      },
      "executions.clear": async (p, who) => {
        this.mustJob(p.job);
        await this.write({ type: "executions.clear", at: this.d.clock.now(), job: p.job }, who, p.job);
        return this.render(this.mustJob(p.job), who);
      },
      restore: (p, who) => this.restore(p.jobs, who),
      "schedule.preview": (p) => previewExpression({ ...p, from: p.from ?? this.d.clock.now() }),
      "tokens.create": (p, who) => this.createToken(p.token, who),
      "tokens.list": () => listTokens(this.d.state).map(tokenToJson),
      "tokens.revoke": async (p, who) => {
        const row = getToken(this.d.state, p.id);
        if (!row) throw new AppError("NOT_FOUND", `token "${p.id}" not found`, { field: "id" });
        await this.write({ type: "token.revoke", at: this.d.clock.now(), id: p.id }, who, p.id, row.name);
        return tokenToJson(row);
      },
      "tokens.touch": async (p) => {
        if (p.uses.length) await this.write({ type: "tokens.used", at: this.d.clock.now(), uses: p.uses });
        return { recorded: p.uses.length };
      },
      "audit.list": (p) => listAudit(this.d.state, p),
      "webhooks.create": (p, who) => {
        // A hook starts runs of its job: binding one is the run scope's as well as write's.
        if (!grants(who.scopes, "run"))
          throw new AppError(
            "FORBIDDEN",
            `token "${who.name}" may not run jobs: a webhook needs the run scope too`,
            {
              scope: "run",
            },
          );
        return this.hooks.create(p.hook, who);
      },
      "webhooks.list": (p, who) => this.hooks.list(p, who),
      "webhooks.get": (p, who) => this.hooks.get(p.id, who),
      "webhooks.delete": (p, who) => this.hooks.delete(p.id, who),
      "hooks.deliver": (p, who) => this.hooks.deliver(p, who).catch((e) => this.rethrowWithLeaderAddr(e)),
      "webhooks.rotate": (p, who) => {
        if (!grants(who.scopes, "run"))
          throw new AppError(
            "FORBIDDEN",
            `token "${who.name}" may not run jobs: a webhook needs the run scope too`,
            {
              scope: "run",
            },
          );
        return this.hooks.rotate(p.id, who);
      },
      "webhooks.deliveries": (p, who) => this.hooks.deliveries(p.id, who),
      "tokens.self": (_p, who) => ({
        name: who.name,
        scopes: [...who.scopes],
        prefix: who.prefix,
        auth: this.d.auth.enabled,
      }),
      "dashboard.overview": (_p, who) => this.dashboard.overview(who),
      "dashboard.recent": (p, who) => this.dashboard.recent(p, who),
      // The live output is the leader's: a follower sends the caller there.
      "executions.tail": (p) => {
        this.requireLeader();
        return this.dashboard.tail(p);
      },
      "runner-tokens.create": (p, who) => this.runnerAdmin.createToken(p.token, who),
      "runner-tokens.list": () => this.runnerAdmin.listTokens(),
      "runner-tokens.revoke": (p, who) => this.runnerAdmin.revokeToken(p.id, who),
      "runners.join": (p, who) =>
        this.runnerAdmin.join(p.join, who).catch((e) => this.rethrowWithLeaderAddr(e)),
      "runners.list": () => this.runnerAdmin.list(),
      "runners.revoke": (p, who) => this.runnerAdmin.revoke(p.name, who),
      "keys.list": () => this.keyring.list(),
      "keys.install": (p, who) => this.keyring.change("install", p.body, who),
      "keys.use": (p, who) => this.keyring.change("use", p.body, who),
      "keys.remove": (p, who) => this.keyring.change("remove", p.body, who),
    };
  }

  /** Runs one contract method with already-parsed params for `caller`. */
  async call<M extends ControlMethod>(
    method: M,
    params: ControlParamsOf<M>,
    caller: Caller = ANONYMOUS_CALLER,
  ): Promise<ControlResults[M]> {
    // Writes go to the leader: a follower answers NOT_LEADER (with the leader's address) before
    // looking at its own, possibly lagging, copy.
    if (WRITES.has(method)) this.requireLeader();
    // A linearizable read waits for this node to catch up before the token is checked, so a token
    // revoked anywhere is refused here too; writes are re-checked by the apply of their entry.
    if (LINEARIZABLE_READS.has(method) || (this.d.auth.enabled && NODE_ACTIONS.has(method)))
      await this.read((params as { stale?: boolean }).stale);
    const who = this.identify(method, caller);
    authorize(who, method, params);
    return (this.handlers[method] as Handler<M>)(params, who);
  }

  /** The caller's identity for `method`: public and internal methods need no token. */
  private identify(method: ControlMethod, caller: Caller): Identity {
    const access = ACCESS[method];
    if ("public" in access)
      return { tokenId: "public", name: "public", scopes: [], prefix: "", client: caller.client };
    if ("internal" in access && caller.internal)
      return {
        tokenId: "system",
        name: "system",
        scopes: [],
        prefix: "",
        client: caller.client,
        internal: true,
      };
    return this.d.auth.identify(caller);
  }

  private status(): ControlResults["status"] {
    const s = this.d.consensus.status();
    return {
      agent: { name: this.d.node.name, version: this.d.node.version },
      serf: { members: String(this.members().length), runners: String(this.d.runners.sessions().length) },
      tags: this.d.node.tags,
      raft: {
        state: s.state,
        term: s.term,
        leader: s.leader,
        commit_index: s.commitIndex,
        applied_index: s.appliedIndex,
        last_log_index: s.lastLogIndex,
        last_snapshot_index: s.snapshotIndex,
        log_syncs: s.logSyncs,
        log_synced_entries: s.logSyncedEntries,
      },
    };
  }

  /**
   * Control nodes first (this one, then its peers), then runners connected here. Control members
   * carry Raft tags: `raft_state`, `raft_suffrage`, and for this node term, commit and applied index
   * (for peers, the leader adds `raft_match_index`). A peer whose Raft stream is down is `failed`.
   */
  private members(): Member[] {
    const st = this.d.consensus.status();
    const conf = this.d.cluster?.conf();
    const suffrage = (id: string) =>
      !conf ? "voter" : conf.voters.includes(id) ? "voter" : conf.learners.includes(id) ? "learner" : "none";
    const [host, port] = splitHostPort(this.d.node.advertise);
    const self: Member = aliveMember(this.d.node.name, host, port, {
      ...this.d.node.tags,
      raft_state: st.state,
      raft_suffrage: suffrage(this.d.node.name),
      raft_term: String(st.term),
      raft_commit_index: String(st.commitIndex),
      raft_applied_index: String(st.appliedIndex),
    });
    const controls = [...this.d.peers.all()]
      .filter(([id]) => id !== this.d.node.name)
      .map(([id, addr]) => {
        const [h, p] = splitHostPort(addr);
        const match = this.d.cluster?.match(id);
        const m = aliveMember(id, h, p, {
          role: "dkron",
          server: "true",
          rpc_addr: addr,
          port: String(p),
          dkron_server: "true",
          dkron_rpc_addr: addr,
        });
        if (this.d.cluster && !this.d.cluster.reachable(id)) {
          m.Status = MemberStatus.failed;
          m.statusText = "failed";
        }
        m.Tags = {
          ...m.Tags,
          raft_state: id === st.leader ? "leader" : "follower",
          raft_suffrage: suffrage(id),
          ...(match === undefined ? {} : { raft_match_index: String(match) }),
        };
        return m;
      });
    const known = new Set([this.d.node.name, ...controls.map((m) => m.Name)]);
    // Runners connect to the leader; a control node's own runner shares its name and tags.
    const runners = this.d.runners
      .sessions()
      .filter((r) => !known.has(r.name))
      .map((r) =>
        aliveMember(r.name, r.addr.replace(/^::ffff:/, ""), 0, {
          ...r.tags,
          // The last frame (a pong or any message) on its stream: the dashboard's "last heartbeat".
          last_heartbeat: new Date(r.lastSeen).toISOString(),
        }),
      );
    for (const r of this.d.runners.sessions()) {
      const m = controls.find((c) => c.Name === r.name);
      if (m) m.Tags = { ...m.Tags, ...r.tags, ...pick(m.Tags, /^raft_/) };
    }
    return this.withGossip([self, ...controls, ...runners]);
  }

  /**
   * Merges the gossip pool into the members known from Raft and the runner sessions: gossip is the
   * liveness of record (a member it lists dead is `failed`, one that left `left`), and members only
   * gossip knows (runners whose stream is down, or connected to another node) are added. On the
   * leader every runner member says whether its stream is up (`stream`: connected, draining or
   * down): only a connected runner is dispatchable.
   */
  private withGossip(known: Member[]): Member[] {
    const pool = this.d.gossip?.();
    if (!pool) return known;
    const byName = new Map(pool.map((m) => [m.Name, m]));
    const leading = this.d.consensus.isLeader();
    const out = known.map((m) => {
      const g = byName.get(m.Name);
      byName.delete(m.Name);
      if (!g) return m;
      const failed = m.Status === MemberStatus.failed || g.Status === MemberStatus.failed;
      const status = g.Status === MemberStatus.left ? "left" : failed ? "failed" : "alive";
      return {
        ...m,
        Addr: m.Port === 0 ? g.Addr : m.Addr,
        Tags: { ...g.Tags, ...m.Tags, gossip_addr: `${g.Addr}:${g.Port}` },
        Status: MemberStatus[status],
        statusText: status,
      };
    });
    for (const g of byName.values())
      out.push({
        ...g,
        Tags: {
          ...g.Tags,
          gossip_addr: `${g.Addr}:${g.Port}`,
          ...(leading && g.Tags.role === "runner" ? { stream: "down" } : {}),
        },
      });
    if (leading) {
      // A draining runner (SIGTERM) keeps its stream for its results but takes no new run.
      const draining = new Set(
        this.d.runners
          .sessions()
          .filter((r) => r.draining)
          .map((r) => r.name),
      );
      for (const m of out)
        if (m.Tags.role === "runner" && this.d.runners.isConnected(m.Name))
          m.Tags.stream = draining.has(m.Name) ? "draining" : "connected";
    }
    return out;
  }

  private async putJob(
    body: unknown,
    runoncreate: boolean,
    who: Identity,
    pathName?: string,
  ): Promise<JobJson> {
    if (this.paused) throw new AppError("PAUSED", "New job submissions are currently paused");
    const spec = validateJob(body);
    mustCoverJob(who, spec.name);
    // A child changes its parent (dependents, delete refusals, runs after it): the prefix covers both.
    if (spec.parent_job) mustCoverJob(who, spec.parent_job);
    // Starting a run is the run scope's, however it is asked for.
    if (runoncreate && !grants(who.scopes, "run"))
      throw new AppError(
        "FORBIDDEN",
        `token "${who.name}" may not run jobs: runoncreate needs the run scope`,
        {
          scope: "run",
        },
      );
    if (pathName !== undefined && pathName !== spec.name) {
      throw new AppError(
        "VALIDATION",
        `name: "${spec.name}" does not match the job in the path "${pathName}" (renaming is not supported; create a new job)`,
        {
          field: "name",
        },
      );
    }
    // Only whether it exists (the audit's created/updated): the row, not its parsed spec and children.
    const existed = getJobRow(this.d.state, spec.name) !== undefined;
    await this.write(
      { type: "job.put", at: this.d.clock.now(), job: spec },
      who,
      spec.name,
      existed ? "updated" : "created",
    );
    if (runoncreate) {
      void this.d.dispatcher
        .run(spec.name, "manual", this.d.clock.now(), undefined, {
          audit: this.stamp(who, "jobs.run", spec.name, "runoncreate"),
        })
        .catch(() => undefined);
    }
    return this.render(this.mustJob(spec.name), who);
  }

  /**
   * Restores a backup as Dkron does: every job Dkron would store is stored, parents before children,
   * one result string per job (planRestore, restoreResult). What only this build dislikes is kept on
   * the job as warnings, and the backup's counters are merged in; a job whose parent was not created
   * is not attempted. A file that is not an array of objects is refused whole before anything is
   * written.
   */
  private async restore(input: unknown, who: Identity): Promise<string[]> {
    const plan = planRestore(input);
    // A prefix-limited token restores only its own jobs: one outside refuses the whole file.
    for (const step of plan)
      if (step.job) {
        mustCoverJob(who, step.job.spec.name);
        if (step.job.spec.parent_job) mustCoverJob(who, step.job.spec.parent_job);
      }
    const created: boolean[] = [];
    const out: string[] = [];
    for (const [k, step] of plan.entries()) {
      created[k] = false;
      if (!step.job) {
        out.push(restoreResult(step.label, { error: step.error ?? "invalid job" }));
        continue;
      }
      const { spec, warnings, counters } = step.job;
      if (step.after !== undefined && !created[step.after]) {
        out.push(restoreResult(step.label, { error: `parent job "${spec.parent_job}" was not created` }));
        continue;
      }
      const res = await this.d.consensus.propose({
        type: "job.put",
        at: this.d.clock.now(),
        job: spec,
        ...(warnings.length ? { warnings } : {}),
        ...(counters ? { counters } : {}),
        audit: this.stamp(
          who,
          "restore",
          spec.name,
          warnings.length ? `with ${warnings.length} warning(s)` : "",
        ),
      });
      created[k] = res.ok;
      out.push(restoreResult(step.label, res.ok ? { warnings } : { error: res.error.message }));
    }
    return out;
  }

  /** Linearizable by default (ReadIndex through the leader); `stale` reads this node's copy. */
  private async read(stale?: boolean): Promise<void> {
    if (!stale) await this.d.consensus.readBarrier().catch((e) => this.rethrowWithLeaderAddr(e));
  }

  private requireLeader(): void {
    if (this.d.consensus.isLeader()) return;
    const leader = this.d.consensus.status().leader;
    throw new AppError(
      "NOT_LEADER",
      leader
        ? `this node is not the leader; the leader is ${leader}`
        : "no leader is elected yet; retry shortly",
      { leader: leader ? this.d.peers.url(leader) : "" },
    );
  }

  /** NOT_LEADER carries the leader's address (not its id), so clients can retry there. */
  private rethrowWithLeaderAddr(e: unknown): never {
    if (isAppError(e) && e.code === "NOT_LEADER") {
      const id = typeof e.details?.leader === "string" ? e.details.leader : "";
      throw new AppError("NOT_LEADER", e.message, { leader: id ? this.d.peers.url(id) : "" });
    }
    throw e;
  }

  /**
   * Proposes a write on the leader, stamped for the audit log with who asked (`who`) and what it is
   * about (`target`); a rejection becomes the AppError it names. Without `who` it is the node's own.
   */
  private async write(
    cmd: Command,
    who?: Identity,
    target = "",
    detail = "",
    action = actionOf(cmd),
  ): Promise<void> {
    this.requireLeader();
    const stamped: Command = who ? { ...cmd, audit: this.stamp(who, action, target, detail) } : cmd;
    const res = await this.d.consensus.propose(stamped).catch((e) => this.rethrowWithLeaderAddr(e));
    if (!res.ok) throw new AppError(res.error.code, res.error.message, res.error.details);
  }

  /** Commits only an audit record, for an action that changes nothing replicated (pause, leave). */
  private async audited(who: Identity, action: string, target: string, detail = ""): Promise<void> {
    // These act on the node asked, so they must not follow NOT_LEADER: a follower cannot commit the
    // record itself, and writes it to its log instead (docs/security.md says so).
    if (!this.d.consensus.isLeader()) {
      this.d.logger?.warn("audit", { ...this.stamp(who, action, target, detail), committed: false });
      return;
    }
    await this.write({ type: "audit.record", at: this.d.clock.now() }, who, target, detail, action);
  }

  /** The audit stamp of a change `who` asked for. */
  private stamp(who: Identity, action: string, target: string, detail = ""): AuditStamp {
    return {
      tokenId: who.tokenId,
      tokenName: who.name,
      action,
      target,
      client: who.client,
      ...(detail ? { detail } : {}),
      retainMs: this.d.auditRetentionMs,
    };
  }

  /** Mints a token from a validated request; the answer is the only place its secret appears. */
  private async createToken(body: unknown, who: Identity): Promise<ControlResults["tokens.create"]> {
    const req = parseOrThrow(TokenCreateSchema, body, "token");
    const { id, token, hash } = mintToken(this.d.secret);
    const at = this.d.clock.now();
    await this.write(
      {
        type: "token.create",
        at,
        id,
        name: req.name,
        hash,
        scopes: req.scopes,
        prefix: req.prefix,
        expiresAt: req.expires_in === undefined ? null : at + req.expires_in,
        createdBy: who.tokenId,
      },
      who,
      id,
      `${req.name} (${req.scopes.join(",")}${req.prefix ? ` on ${req.prefix}*` : ""})`,
    );
    const row = getToken(this.d.state, id);
    if (!row) throw new AppError("INTERNAL", "the new token was not stored");
    return { ...tokenToJson(row), token };
  }

  private mustJob(name: string): StoredJob {
    const j = getStoredJob(this.d.state, name);
    if (!j) throw new AppError("NOT_FOUND", `job "${name}" not found`, { field: "job" });
    return j;
  }

  /** A job as the API shows it at `now` (see renderJob). */
  private render(j: StoredJob, who?: Identity, now = this.d.clock.now()): JobJson {
    return renderJob(j, now, who);
  }
}

const WRITES = new Set<ControlMethod>([
  "jobs.put",
  "jobs.delete",
  "jobs.run",
  "jobs.toggle",
  "executions.clear",
  "restore",
  "tokens.create",
  "tokens.revoke",
  "tokens.touch",
  "webhooks.create",
  "webhooks.delete",
  "webhooks.rotate",
  "hooks.deliver",
  "runner-tokens.create",
  "runner-tokens.revoke",
  "runners.join",
  "runners.revoke",
  "keys.install",
  "keys.use",
  "keys.remove",
]);

/** Reads answered from this node's state after a ReadIndex barrier (unless `stale`). */
const LINEARIZABLE_READS = new Set<ControlMethod>([
  "jobs.list",
  "jobs.get",
  "executions.list",
  "executions.get",
  "tokens.list",
  "audit.list",
  "webhooks.list",
  "webhooks.get",
  "webhooks.deliveries",
  "tokens.self",
  "runner-tokens.list",
  "keys.list",
]);

/**
 * Admin actions on the node asked (pause, leave): a follower serves them itself, so it first catches
 * up with the leader, as a linearizable read does, and a token revoked anywhere is refused here too.
 */
const NODE_ACTIONS = new Set<ControlMethod>(["pause.set", "leave"]);

/** The audit action of a command: the control-api method it carries out. */
function actionOf(cmd: Command): string {
  return ACTION_OF_COMMAND[cmd.type] ?? cmd.type;
}

const ACTION_OF_COMMAND: Partial<Record<Command["type"], string>> = {
  "job.put": "jobs.put",
  "job.delete": "jobs.delete",
  "job.toggle": "jobs.toggle",
  "executions.clear": "executions.clear",
  "token.create": "tokens.create",
  "token.revoke": "tokens.revoke",
  "webhook.put": "webhooks.create",
  "webhook.delete": "webhooks.delete",
  "webhook.rotate": "webhooks.rotate",
  "runner-token.create": "runner-tokens.create",
  "runner-token.revoke": "runner-tokens.revoke",
  "runner.join": "runners.join",
  "runner.revoke": "runners.revoke",
};

/** The entries of `tags` whose key matches `re`. */
function pick(tags: Record<string, string>, re: RegExp): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).filter(([k]) => re.test(k)));
}
