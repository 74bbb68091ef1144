/**
 * Three real `dkron agent` processes on loopback. While two `@every 1s` jobs append their slot to a
 * file and a client writes jobs through every node, the leader is SIGKILLed (and restarted on its
 * data dir) several times and SIGSTOPped once for longer than an election timeout. Afterwards:
 * every acknowledged write is on every node; every slot from the job's creation to its disabling has
 * exactly one run group (a run, a catch-up run, or a `missed` record where the catch-up policy says
 * so); a `lost` or `failed` record only where a fault explains it; and the file holds exactly one
 * line per succeeded execution and nothing else (a lost one may have run before its node died).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/agent-process";
import { type ClusterNode, getJson, TestCluster } from "../helpers/cluster";
import { tempDir } from "../helpers/tmp";

const KILLS = 6;
/**
 * When each SIGKILL lands after a slot: proposing, committing, dispatching, and (three times) while
 * the command runs — it sleeps RUN_S after writing its line, so a runner killed then loses a started run.
 */
const KILL_OFFSETS_MS = [5, 40, 90, 150, 250, 350];
const RUN_S = 0.4;
const TICKERS = ["tick-a", "tick-b"];
const SLOT_MS = 1000;
/** The nodes' --lease-timeout: a running execution nobody reports becomes `lost` after it. */
const LEASE_MS = 2000;

interface Exec {
  id: string;
  group: number;
  node_name: string;
  scheduled_at: string;
  started_at: string;
  state: string;
  trigger: string;
  output: string;
}
interface Status {
  raft: { state: string; leader: string; applied_index: number; commit_index: number };
}
interface Line {
  job: string;
  slot: number;
  id: string;
}
/** A fault on one node: from just before the signal to when the cluster was scheduling again (wall-clock ms). */
interface Fault {
  what: string;
  node: string;
  from: number;
  to: number;
}
/** When a request was sent and when it was acknowledged (wall-clock ms): the leader stamped it in between. */
interface Span {
  from: number;
  to: number;
}

let cluster: TestCluster | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
  for (const c of cleanups.splice(0)) c();
});

function post(url: string, body: unknown, timeoutMs = 5000): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
}

function readLines(file: string): Line[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const [job, at, id] = l.trim().split(/\s+/);
      return { job: job!, slot: Date.parse(at!), id: id! };
    });
}

describe("3-node cluster under leader failures (real processes)", () => {
  it("keeps acknowledged writes and gives every slot one run group, explained where it did not succeed", async () => {
    const dir = tempDir("dkron-failover-");
    cleanups.push(dir.cleanup);
    const files = Object.fromEntries(TICKERS.map((t) => [t, join(dir.path, `${t}.log`)]));
    const c = await TestCluster.start({
      size: 3,
      baseDir: join(dir.path, "nodes"),
      profile: "fast",
      // Keep every record for the audit; short heartbeats and lease so a dead runner is noticed fast;
      // info logs (printed only on failure).
      extraArgs: [
        "--execution-retention",
        "100000",
        "--heartbeat",
        "500ms",
        "--lease-timeout",
        String(LEASE_MS),
        "--log-level",
        "info",
      ],
    });
    cluster = c;
    const faults: Fault[] = [];
    const created: Record<string, Span> = {};
    const disabled: Record<string, Span> = {};
    const acked = new Set<string>();
    let clientRunning = true;
    const refused: Record<string, number> = {};
    const tally = (why: string) => {
      refused[why] = (refused[why] ?? 0) + 1;
    };
    const t0 = Date.now();
    const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

    try {
      let leader = await c.waitForLeader(30_000);
      // All three local runners on the leader: its scheduler has started, so the tickers' first
      // slots are on time (not catch-up) and every node can be a target.
      await waitFor("three runners on the leader", async () => {
        const st = await getJson<{ serf: { runners: string } }>(`${leader.url}/v1/`);
        return st?.serf.runners === "3" ? true : undefined;
      });
      // The policies the audit holds the records to, spelled out: "allow" never skips a slot
      // without a record; "latest" runs only the newest slot missed while no scheduler ran.
      const ticker = (name: string, disabled: boolean) => ({
        name,
        schedule: "@every 1s",
        executor: "shell",
        disabled,
        concurrency: "allow",
        catchup: "latest",
        tags: { server: "true:1" },
        executor_config: {
          shell: "true",
          command: `echo "$DKRON_JOB_NAME $DKRON_SCHEDULED_AT $DKRON_EXECUTION_ID" >> '${files[name]}'; sleep ${RUN_S}`,
        },
      });
      for (const name of TICKERS) {
        const from = Date.now();
        const r = await post(`${leader.url}/v1/jobs`, ticker(name, false));
        expect(r.status, await r.text()).toBe(201);
        created[name] = { from, to: Date.now() };
      }

      /** Waits until every ticker has run `n` more slots than now: the cluster is scheduling. */
      const progress = async (what: string, n = 2, timeoutMs = 20_000) => {
        const base = TICKERS.map((t) => readLines(files[t]!).length);
        await waitFor(
          what,
          async () =>
            TICKERS.every((t, i) => readLines(files[t]!).length >= base[i]! + n) ? true : undefined,
          timeoutMs,
        );
      };
      await progress("the first runs", 2);

      /** Resolves `offsetMs` after the tickers' next slot: the fault lands while a slot is started. */
      const afterNextSlot = async (offsetMs: number) => {
        const phase = readLines(files[TICKERS[0]!]!).at(-1)!.slot % SLOT_MS;
        const now = Date.now();
        const at = now + ((((phase - now) % SLOT_MS) + SLOT_MS) % SLOT_MS) + offsetMs;
        await new Promise((r) => setTimeout(r, at - now));
      };

      // The client: small @manually jobs through every node in turn; 201 = acknowledged.
      const client = (async () => {
        for (let i = 0; clientRunning; i++) {
          const node = c.nodes[i % c.nodes.length]!;
          const name = `w-${i}`;
          try {
            const r = await post(`${node.url}/v1/jobs`, {
              name,
              schedule: "@manually",
              executor: "shell",
              executor_config: { command: "true" },
            });
            const body = (await r.json().catch(() => null)) as { error?: { code?: string } } | null;
            if (r.status === 201) acked.add(name);
            else {
              tally(`${r.status} ${body?.error?.code ?? ""}`);
              await new Promise((res) => setTimeout(res, 20));
            }
          } catch (e) {
            // Refused (node down) or timed out (node stopped): unacknowledged, may or may not exist.
            tally((e as Error).name === "TimeoutError" ? "timeout" : "unreachable");
            await new Promise((res) => setTimeout(res, 20));
          }
        }
      })();

      for (let k = 0; k < KILLS; k++) {
        const victim = await c.waitForLeader(15_000);
        await afterNextSlot(KILL_OFFSETS_MS[k % KILL_OFFSETS_MS.length]!);
        const from = Date.now();
        await c.kill(victim);
        const others = c.nodes.filter((n) => n !== victim);
        leader = await c.waitForLeader(15_000, others);
        c.spawn(victim);
        await progress(`runs after SIGKILL #${k + 1} of ${victim.name}`);
        faults.push({ what: `SIGKILL #${k + 1} ${victim.name}`, node: victim.name, from, to: Date.now() });
        console.log(
          `${elapsed()} SIGKILL ${victim.name}: new leader ${leader.name}, ${acked.size} writes acked`,
        );
        // The restarted node must be back in the cluster before the next fault (a quorum needs it).
        await waitFor(`${victim.name} to rejoin`, async () => {
          const st = await getJson<Status>(`${victim.url}/v1/`);
          return st?.raft.state === "follower" && st.raft.leader !== "" ? true : undefined;
        });
      }

      // Freeze the leader for longer than an election timeout: the others elect a new leader and
      // keep scheduling (runners must leave the frozen one); it then wakes up as a deposed leader.
      {
        const victim = await c.waitForLeader(15_000);
        await afterNextSlot(60);
        const from = Date.now();
        c.signal(victim, "SIGSTOP");
        const others = c.nodes.filter((n) => n !== victim);
        leader = await c.waitForLeader(15_000, others);
        await progress(`runs while ${victim.name} is stopped`);
        c.signal(victim, "SIGCONT");
        await waitFor(`${victim.name} to follow after SIGCONT`, async () => {
          const st = await getJson<Status>(`${victim.url}/v1/`);
          return st?.raft.state === "follower" && st.raft.leader !== victim.name && st.raft.leader !== ""
            ? true
            : undefined;
        });
        await progress(`runs after SIGCONT of ${victim.name}`);
        faults.push({ what: `SIGSTOP ${victim.name}`, node: victim.name, from, to: Date.now() });
        console.log(
          `${elapsed()} SIGSTOP/SIGCONT ${victim.name}: leader ${leader.name}, ${acked.size} writes acked`,
        );
      }

      clientRunning = false;
      await client;

      // Quiesce: stop the tickers, let every execution finish (or be declared lost), and wait until
      // every node has applied the same log.
      leader = await c.waitForLeader(15_000);
      for (const t of TICKERS) {
        const from = Date.now();
        await waitFor(`disable ${t}`, async () => {
          const r = await post(`${leader.url}/v1/jobs`, ticker(t, true));
          await r.arrayBuffer();
          return r.ok ? true : undefined;
        });
        disabled[t] = { from, to: Date.now() };
      }
      await waitFor(
        "no running executions",
        async () => ((await getJson<unknown[]>(`${leader.url}/v1/busy`))?.length === 0 ? true : undefined),
        20_000,
      );
      let lastIndex = -1;
      await waitFor("the same applied_index on all nodes, twice in a row", async () => {
        const sts = await Promise.all(c.nodes.map((n) => getJson<Status>(`${n.url}/v1/`)));
        const idx = sts.map((s) => s?.raft.applied_index ?? -1);
        const same = idx.every((i) => i === idx[0] && i > 0);
        const stable = same && idx[0] === lastIndex;
        lastIndex = same ? idx[0]! : -1;
        return stable ? true : undefined;
      });

      // 1. Every acknowledged write is on every node (each node's own copy).
      for (const n of c.nodes) {
        const jobs = await getJson<{ name: string }[]>(`${n.url}/v1/jobs?stale=true`, 10_000);
        expect(jobs, `jobs of ${n.name}`).toBeDefined();
        const names = new Set(jobs!.map((j) => j.name));
        const lost = [...acked].filter((a) => !names.has(a));
        expect(lost, `acknowledged writes missing on ${n.name}`).toEqual([]);
      }

      for (const t of TICKERS) {
        // Every node holds the same execution records.
        const perNode = await Promise.all(
          c.nodes.map((n) => getJson<Exec[]>(`${n.url}/v1/jobs/${t}/executions?stale=true`, 10_000)),
        );
        const key = (e: Exec) =>
          `${e.id} ${e.group} ${e.node_name} ${e.scheduled_at} ${e.started_at} ${e.state} ${e.trigger}`;
        expect(
          perNode.map((l) => l !== undefined),
          `executions of ${t} readable on every node`,
        ).toEqual([true, true, true]);
        const views = perNode.map((l) => (l ?? []).map(key).sort());
        expect(views[1], `executions of ${t} on n2 vs n1`).toEqual(views[0]);
        expect(views[2], `executions of ${t} on n3 vs n1`).toEqual(views[0]);
        const execs = perNode[0]!;
        const lines = readLines(files[t]!);
        const { problems, summary } = audit({
          job: t,
          execs,
          lines,
          faults,
          created: created[t]!,
          disabled: disabled[t]!,
        });
        console.log(summary);
        expect(problems, `${t}: records and runs the faults do not explain`).toEqual([]);
      }
      console.log(`${elapsed()} done: ${acked.size} writes acknowledged; not: ${JSON.stringify(refused)}`);
    } catch (e) {
      clientRunning = false;
      console.log(`failed after ${elapsed()}; faults: ${JSON.stringify(faults)}\n${nodeLogs(c.nodes)}`);
      throw e;
    }
  }, 150_000);
});

/** What the audit of one ticker is given. */
interface AuditInput {
  job: string;
  /** Every execution record of the job (any node's copy; they were compared equal). */
  execs: Exec[];
  /** The lines its command appended to its file. */
  lines: Line[];
  faults: Fault[];
  created: Span;
  disabled: Span;
}

/**
 * Holds one ticker's records and file to the rules; returns every breach (naming the slot and the
 * execution) and a one-line summary:
 *  - each scheduled slot from the first after the job was created to the last before it was
 *    disabled has exactly one run group, of exactly one execution (one target, no retries set): a
 *    run, a catch-up run, or a `missed` record;
 *  - `missed` and catch-up only where a fault left no scheduler running, and as policy "latest"
 *    says: a run of missed slots ends with a catch-up run of the slot after it;
 *  - `lost` only on the faulted node, started from just before the fault to its end plus the lease;
 *  - `failed` only for "no target" (no runner connected to a new leader yet) during a fault;
 *  - every succeeded execution wrote exactly one line, and every line is one execution that
 *    succeeded, or was lost (it ran, then its node died), for the slot the line names.
 */
function audit({ job, execs, lines, faults, created, disabled }: AuditInput): {
  problems: string[];
  summary: string;
} {
  const problems: string[] = [];
  const iso = (ms: number) => new Date(ms).toISOString();
  const show = (e: Exec) =>
    `${e.id} (${e.trigger} ${e.state} on "${e.node_name}", started ${e.started_at}: ${JSON.stringify(e.output.slice(0, 160))})`;
  const inFault = (ms: number, before: number, after: number, node?: string) =>
    faults.some(
      (f) => ms >= f.from - before && ms <= f.to + after && (node === undefined || f.node === node),
    );

  const groups = new Map<number, Exec[]>();
  for (const e of execs) {
    if (e.trigger !== "schedule" && e.trigger !== "catchup") problems.push(`unexpected trigger: ${show(e)}`);
    groups.set(e.group, [...(groups.get(e.group) ?? []), e]);
  }
  const bySlot = new Map<number, Exec[]>();
  for (const [group, es] of groups) {
    if (es.length !== 1)
      problems.push(`group ${group} has ${es.length} executions: ${es.map(show).join("; ")}`);
    const slot = Date.parse(es[0]!.scheduled_at);
    if (es.some((e) => Date.parse(e.scheduled_at) !== slot))
      problems.push(`group ${group} spans slots: ${es.map(show).join("; ")}`);
    bySlot.set(slot, [...(bySlot.get(slot) ?? []), es[0]!]);
  }
  const slots = [...bySlot.keys()].sort((a, b) => a - b);
  if (!slots.length) return { problems: [...problems, `${job}: no execution records`], summary: `${job}: -` };
  const first = slots[0]!;
  const last = slots[slots.length - 1]!;

  // The span: the first slot after creation (the leader stamped it between send and ack) to the
  // last before the disable; the scheduler lags a slot by far less than a second.
  if (first <= created.from || first > created.to + SLOT_MS)
    problems.push(
      `first slot ${iso(first)} is not the first after the job was created (${iso(created.from)}..${iso(created.to)})`,
    );
  if (last > disabled.to || last <= disabled.from - 2 * SLOT_MS)
    problems.push(
      `last slot ${iso(last)} is not the last before the job was disabled (${iso(disabled.from)}..${iso(disabled.to)})`,
    );
  for (const s of slots)
    if (s % SLOT_MS !== 0)
      problems.push(`slot ${iso(s)} is not on a whole second: ${bySlot.get(s)!.map(show)}`);

  // Missed slots summarised by a later record rather than listed one by one.
  const unlisted = new Set<number>();
  for (const e of execs) {
    const m = /\((\d+) earlier missed slots are not listed\)/.exec(e.output);
    if (e.state !== "missed" || !m) continue;
    for (let k = 1; k <= Number(m[1]); k++) unlisted.add(Date.parse(e.scheduled_at) - k * SLOT_MS);
  }

  const linesById = new Map<string, Line[]>();
  for (const l of lines) linesById.set(l.id, [...(linesById.get(l.id) ?? []), l]);
  const count: Record<string, number> = {};
  const lostOn: Record<string, number> = {};
  for (let s = first; s <= last; s += SLOT_MS) {
    const here = bySlot.get(s) ?? [];
    if (here.length > 1) {
      problems.push(`slot ${iso(s)} has ${here.length} run groups: ${here.map(show).join("; ")}`);
      continue;
    }
    const e = here[0];
    if (!e) {
      if (unlisted.has(s) && inFault(s, 2 * SLOT_MS, 0)) count.unlisted = (count.unlisted ?? 0) + 1;
      else
        problems.push(
          `slot ${iso(s)} has no record${unlisted.has(s) ? " (unlisted as missed, outside every fault)" : ""}`,
        );
      continue;
    }
    const kind = e.trigger === "catchup" ? `catchup-${e.state}` : e.state;
    count[kind] = (count[kind] ?? 0) + 1;
    const started = Date.parse(e.started_at);
    const ran = linesById.get(e.id) ?? [];
    if (e.trigger === "catchup" && !inFault(s, 2 * SLOT_MS, 0))
      problems.push(`slot ${iso(s)} caught up outside every fault window: ${show(e)}`);
    switch (e.state) {
      case "success":
        if (ran.length !== 1)
          problems.push(`slot ${iso(s)} succeeded but wrote ${ran.length} lines: ${show(e)}`);
        break;
      case "lost":
        lostOn[e.node_name] = (lostOn[e.node_name] ?? 0) + 1;
        if (!inFault(started, SLOT_MS, LEASE_MS, e.node_name))
          problems.push(`slot ${iso(s)} lost but its node was not faulted while it ran: ${show(e)}`);
        if (ran.length > 1) problems.push(`slot ${iso(s)} lost but wrote ${ran.length} lines: ${show(e)}`);
        break;
      case "failed":
        if (!e.output.startsWith("no target nodes found") || !inFault(started, SLOT_MS, 0))
          problems.push(`slot ${iso(s)} failed without a fault to explain it: ${show(e)}`);
        break;
      case "missed": {
        if (!inFault(s, 2 * SLOT_MS, 0))
          problems.push(`slot ${iso(s)} missed outside every fault window: ${show(e)}`);
        const after = bySlot.get(s + SLOT_MS)?.[0];
        if (!after || (after.state !== "missed" && after.trigger !== "catchup"))
          problems.push(
            `slot ${iso(s)} missed but the next slot is ${after ? show(after) : "not recorded"}: policy "latest" runs the newest missed slot`,
          );
        break;
      }
      default:
        problems.push(`slot ${iso(s)} still ${e.state} after quiescing: ${show(e)}`);
    }
    if (ran.length && e.state !== "success" && e.state !== "lost")
      problems.push(`slot ${iso(s)} wrote ${ran.length} lines but is ${e.state}: ${show(e)}`);
  }

  // The file: no slot or execution ran twice, and each line is a started execution of its slot.
  const byId = new Map(execs.map((e) => [e.id, e]));
  for (const s of dupes(lines.map((l) => l.slot))) problems.push(`slot ${iso(s)} ran twice (file)`);
  for (const id of dupes(lines.map((l) => l.id))) problems.push(`execution ${id} ran twice (file)`);
  for (const l of lines) {
    const e = byId.get(l.id);
    if (l.job !== job || !e)
      problems.push(`file line "${l.job} ${iso(l.slot)} ${l.id}" has no execution of ${job}`);
    else if (Date.parse(e.scheduled_at) !== l.slot)
      problems.push(`file line for slot ${iso(l.slot)} names an execution of another slot: ${show(e)}`);
  }

  const summary =
    `${job}: ${(last - first) / SLOT_MS + 1} slots ${iso(first)}..${iso(last)}, ${lines.length} file lines; ` +
    `records ${JSON.stringify(count)}; lost on ${JSON.stringify(lostOn)}`;
  return { problems, summary };
}

function dupes<T>(xs: T[]): T[] {
  const seen = new Set<T>();
  const out = new Set<T>();
  for (const x of xs) (seen.has(x) ? out : seen).add(x);
  return [...out];
}

function nodeLogs(nodes: ClusterNode[]): string {
  return nodes.map((n) => `--- ${n.name} (port ${n.port})\n${n.log.slice(-20_000)}`).join("\n");
}
