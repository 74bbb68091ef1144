/**
 * Three real `dkron agent` processes on loopback. While two `@every 1s` jobs append their slot to a
 * file and a client writes jobs through every node, the leader is SIGKILLed (and restarted on its
 * data dir) several times and SIGSTOPped once for longer than an election timeout. Afterwards:
 * every acknowledged write is on every node, every slot ran at most once and every slot is
 * accounted for (a run, or a record the catch-up policy explains), and no execution ran twice.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/agent-process";
import { type ClusterNode, getJson, TestCluster } from "../helpers/cluster";
import { tempDir } from "../helpers/tmp";

const KILLS = 4;
/** When each SIGKILL lands after a slot: proposing, committing, dispatching, running. */
const KILL_OFFSETS_MS = [5, 40, 90, 150];
const TICKERS = ["tick-a", "tick-b"];
const SLOT_MS = 1000;

interface Exec {
  id: string;
  scheduled_at: string;
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
/** A fault and when the cluster was scheduling again after it (both wall-clock ms). */
interface Fault {
  what: string;
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
  it("keeps acknowledged writes, starts every slot at most once and accounts for the rest", async () => {
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
        "2s",
        "--log-level",
        "info",
      ],
    });
    cluster = c;
    const faults: Fault[] = [];
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
      const ticker = (name: string, disabled: boolean) => ({
        name,
        schedule: "@every 1s",
        executor: "shell",
        disabled,
        tags: { server: "true:1" },
        executor_config: {
          shell: "true",
          command: `echo "$DKRON_JOB_NAME $DKRON_SCHEDULED_AT $DKRON_EXECUTION_ID" >> '${files[name]}'`,
        },
      });
      for (const name of TICKERS) {
        const r = await post(`${leader.url}/v1/jobs`, ticker(name, false));
        expect(r.status, await r.text()).toBe(201);
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
        faults.push({ what: `SIGKILL ${victim.name}`, from, to: Date.now() });
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
        faults.push({ what: `SIGSTOP ${victim.name}`, from, to: Date.now() });
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
        await waitFor(`disable ${t}`, async () => {
          const r = await post(`${leader.url}/v1/jobs`, ticker(t, true));
          await r.arrayBuffer();
          return r.ok ? true : undefined;
        });
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
        const key = (e: Exec) => `${e.id} ${e.scheduled_at} ${e.state} ${e.trigger}`;
        const views = perNode.map((l) => (l ?? []).map(key).sort());
        expect(views[1], `executions of ${t} on n2 vs n1`).toEqual(views[0]);
        expect(views[2], `executions of ${t} on n3 vs n1`).toEqual(views[0]);
        const execs = perNode[0]!;
        const lines = readLines(files[t]!);

        // 2. From the file: no slot ran twice, no execution id ran twice, and each line is an
        // execution the cluster started for that slot.
        const dupSlots = dupes(lines.map((l) => l.slot)).map((s) => new Date(s).toISOString());
        expect(dupSlots, `slots of ${t} that ran twice`).toEqual([]);
        expect(dupes(lines.map((l) => l.id)), `execution ids of ${t} that ran twice`).toEqual([]);
        const byId = new Map(execs.map((e) => [e.id, e]));
        for (const l of lines) {
          expect(l.job).toBe(t);
          const e = byId.get(l.id);
          expect(e, `execution ${l.id} of a line in ${t}.log`).toBeDefined();
          expect(Date.parse(e!.scheduled_at)).toBe(l.slot);
          expect(e!.state, `state of ${l.id}`).not.toBe("missed");
        }

        // From the API: at most one start per scheduled slot (a retry would share the group; we set none).
        const scheduled = execs.filter((e) => e.trigger === "schedule" || e.trigger === "catchup");
        const started = scheduled.filter((e) => e.state !== "missed");
        expect(dupes(started.map((e) => Date.parse(e.scheduled_at))), `slots of ${t} started twice`).toEqual(
          [],
        );
        expect(
          dupes(scheduled.map((e) => Date.parse(e.scheduled_at))),
          `slots of ${t} both started and missed`,
        ).toEqual([]);

        // 3. Every slot between the first and last that ran is accounted for: a line in the file,
        // or an execution record that explains why there is none:
        //  - "missed": due while no scheduler ran (leaderless, or the new leader waiting for
        //    runners); the catch-up policy "latest" ran only the newest of them (trigger catchup).
        //    A record may summarise earlier missed slots it does not list individually.
        //  - "failed": started but no runner was connected to the new leader ("no target").
        //  - "lost": started on a runner that died with its node (SIGKILL) or never reported
        //    back; the command may or may not have run, but the slot was not started again. This
        //    includes a start the old leader proposed and the new one committed while the target
        //    runner was still reconnecting: a run is never re-sent later, because a runner that
        //    restarted meanwhile could not tell that it already ran it (at most once wins).
        const ran = new Set(lines.map((l) => l.slot));
        const bySlot = new Map(scheduled.map((e) => [Date.parse(e.scheduled_at), e]));
        const unlisted = new Set<number>();
        for (const e of scheduled) {
          const m = /\((\d+) earlier missed slots are not listed\)/.exec(e.output);
          if (e.state !== "missed" || !m) continue;
          for (let k = 1; k <= Number(m[1]); k++) unlisted.add(Date.parse(e.scheduled_at) - k * SLOT_MS);
        }
        const slots = [...ran].sort((a, b) => a - b);
        const first = slots[0]!;
        const last = slots[slots.length - 1]!;
        const unaccounted: string[] = [];
        const explained: Record<string, number> = {};
        for (let s = first; s <= last; s += SLOT_MS) {
          if (ran.has(s)) continue;
          const e = bySlot.get(s);
          const why =
            e && ["missed", "failed", "lost"].includes(e.state) ? e.state : unlisted.has(s) ? "unlisted" : "";
          if (why) explained[why] = (explained[why] ?? 0) + 1;
          else unaccounted.push(`${new Date(s).toISOString()} (${e ? `${e.state} ${e.id}` : "no record"})`);
        }
        expect(unaccounted, `slots of ${t} neither run nor explained`).toEqual([]);

        // Missed and caught-up slots only where the policy applies: due while a fault left no
        // scheduler running.
        const misplaced = scheduled
          .filter((e) => e.state === "missed" || e.trigger === "catchup")
          .map((e) => Date.parse(e.scheduled_at))
          .filter((s) => !faults.some((f) => s >= f.from - 2 * SLOT_MS && s <= f.to))
          .map((s) => new Date(s).toISOString());
        expect(misplaced, `missed or caught-up slots of ${t} outside every fault window`).toEqual([]);
        console.log(
          `${t}: ${lines.length} runs over ${(last - first) / SLOT_MS + 1} slots; not run: ${JSON.stringify(explained)}; ` +
            `catch-up runs: ${scheduled.filter((e) => e.trigger === "catchup").length}`,
        );
      }
      console.log(`${elapsed()} done: ${acked.size} writes acknowledged; not: ${JSON.stringify(refused)}`);
    } catch (e) {
      clientRunning = false;
      console.log(`failed after ${elapsed()}; faults: ${JSON.stringify(faults)}\n${nodeLogs(c.nodes)}`);
      throw e;
    }
  }, 150_000);
});

function dupes<T>(xs: T[]): T[] {
  const seen = new Set<T>();
  const out = new Set<T>();
  for (const x of xs) (seen.has(x) ? out : seen).add(x);
  return [...out];
}

function nodeLogs(nodes: ClusterNode[]): string {
  return nodes.map((n) => `--- ${n.name} (port ${n.port})\n${n.log.slice(-20_000)}`).join("\n");
}
