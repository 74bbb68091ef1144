/**
 * Failover of a 3-node cluster: the leader is SIGKILLed repeatedly and each time we measure, from
 * the kill,
 *   (a) the first acknowledged write through a surviving node (a POST /v1/jobs every ~20 ms,
 *       alternating between the two survivors; a follower forwards it to the leader it knows), and
 *   (b) the first scheduled fire under the new leader: a job `@every 1s` tagged server=true:1 whose
 *       command appends `date +%s%N` (the moment its process runs) and its DKRON_SCHEDULED_AT to a
 *       file; the first line whose process started after the kill.
 * Each kill lands at a different offset after a slot whose run has already started (so every run
 * that starts after the kill was dispatched by the new leader); the killed node is then restarted
 * on its data dir and must catch up, and its runner reconnect, before the next kill.
 *
 * Run: node --import tsx bench/cluster-failover.ts [kills = 20] [profile = both | default | fast]
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../test/helpers/agent-process";
import { type ClusterNode, getJson, TestCluster } from "../test/helpers/cluster";
import { tempDir } from "../test/helpers/tmp";
import { benchArgs } from "./args";
import { hostLine } from "./host";
import { type Figure, reportFigures } from "./report";
import { percentile } from "./stats";

const args = benchArgs(
  "Usage: node --import tsx bench/cluster-failover.ts [kills = 20] [profile = both | default | fast]",
);
const kills = args.int(0, "kills", 20);
const which = args.choice(1, "profile", ["both", "default", "fast"] as const, "both");
const profiles = (which === "both" ? ["default", "fast"] : [which]) as ("default" | "fast")[];
/** Targets (p99, ms) per profile: election timeouts [1000, 2000) ms and [300, 600) ms. */
const TARGET: Record<"default" | "fast", number> = { default: 2500, fast: 1000 };
const GIVE_UP_MS = 30_000;

interface Status {
  raft: { state: string; leader: string; term: number; commit_index: number; applied_index: number };
  serf: { runners: string };
}
interface Fire {
  /** When the job's process ran (epoch ms, from `date +%s%N`). */
  ranAt: number;
  slot: number;
}
interface Kill {
  victim: string;
  newLeader: string;
  offsetMs: number;
  /** Terms the election took (1 = the first candidate won; more = split votes or failed rounds). */
  terms: number | undefined;
  electedMs: number | undefined;
  writeMs: number | undefined;
  fireMs: number | undefined;
  /** How late that first fire was for its own slot (0 when the slot came after the kill). */
  fireLateMs: number | undefined;
  /** First fire after the later of (a survivor leads, the first slot due after the kill). */
  readyToFireMs: number | undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readFires(file: string): Fire[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const [ns, at] = l.trim().split(/\s+/);
      return { ranAt: Number(ns) / 1e6, slot: Date.parse(at!) };
    });
}

async function post(url: string, body: unknown, timeoutMs: number): Promise<number> {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  await r.arrayBuffer();
  return r.status;
}

/** Polls writes through the survivors every `everyMs` until one is acknowledged; ms from `t0`. */
async function firstWrite(
  survivors: ClusterNode[],
  t0: number,
  tag: string,
  everyMs = 20,
): Promise<number | undefined> {
  let done: number | undefined;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; done === undefined && Date.now() - t0 < GIVE_UP_MS; i++) {
    const node = survivors[i % survivors.length]!;
    inFlight.push(
      post(
        `${node.url}/v1/jobs`,
        {
          name: `${tag}-${i}`,
          schedule: "@manually",
          executor: "shell",
          executor_config: { command: "true" },
        },
        3000,
      )
        .then((status) => {
          if (status === 201 && done === undefined) done = Date.now() - t0;
        })
        .catch(() => undefined),
    );
    await sleep(everyMs);
  }
  await Promise.all(inFlight);
  return done;
}

/** Polls the survivors' GET /v1/ every `everyMs` until one says it leads; ms from `t0`. */
async function elected(survivors: ClusterNode[], t0: number, everyMs = 20): Promise<number | undefined> {
  while (Date.now() - t0 < GIVE_UP_MS) {
    const sts = await Promise.all(survivors.map((n) => getJson<Status>(`${n.url}/v1/`, 1000)));
    if (sts.some((st) => st?.raft.state === "leader")) return Date.now() - t0;
    await sleep(everyMs);
  }
  return undefined;
}

/** Waits for the first run whose process started after `t0`; ms from `t0` and its lateness. */
async function firstFire(file: string, t0: number): Promise<{ ms: number; lateMs: number } | undefined> {
  while (Date.now() - t0 < GIVE_UP_MS) {
    const after = readFires(file).filter((f) => f.ranAt > t0);
    if (after.length) {
      const first = after.reduce((a, b) => (b.ranAt < a.ranAt ? b : a));
      return { ms: first.ranAt - t0, lateMs: Math.max(0, first.ranAt - Math.max(t0, first.slot)) };
    }
    await sleep(20);
  }
  return undefined;
}

/** All three nodes up, the restarted one caught up, and every runner connected to the leader. */
async function settled(c: TestCluster): Promise<ClusterNode> {
  return waitFor(
    "a settled cluster (one leader, all caught up, three runners on it)",
    async () => {
      const leader = await c.leader();
      if (!leader) return undefined;
      const ls = await getJson<Status>(`${leader.url}/v1/`);
      if (ls?.serf.runners !== "3") return undefined;
      for (const n of c.nodes) {
        const st = await getJson<Status>(`${n.url}/v1/`);
        if (!st || st.raft.leader !== leader.name || st.raft.applied_index < ls.raft.commit_index)
          return undefined;
      }
      return leader;
    },
    60_000,
  );
}

async function run(
  profile: "default" | "fast",
): Promise<{ profile: "default" | "fast"; results: Kill[]; host: string[] }> {
  const dir = tempDir(`dkron-bench-failover-${profile}-`);
  const file = join(dir.path, "fires.log");
  const c = await TestCluster.start({
    size: 3,
    baseDir: join(dir.path, "nodes"),
    profile,
    extraArgs: ["--log-level", "warn"],
  });
  const results: Kill[] = [];
  const host = [await hostLine(dir.path)];
  try {
    let leader = await settled(c);
    const r = await post(
      `${leader.url}/v1/jobs`,
      {
        name: "failover-tick",
        schedule: "@every 1s",
        executor: "shell",
        tags: { server: "true:1" },
        executor_config: { shell: "true", command: `echo "$(date +%s%N) $DKRON_SCHEDULED_AT" >> '${file}'` },
      },
      10_000,
    );
    if (r !== 201) throw new Error(`could not create the ticking job: HTTP ${r}`);
    await waitFor("the first runs", async () => (readFires(file).length >= 2 ? true : undefined), 20_000);

    for (let k = 0; k < kills; k++) {
      leader = await settled(c);
      // Kill offsets spread over the second (golden-ratio sequence), at least 150 ms after a slot so
      // that slot's run has started, and at least 50 ms before the next one.
      const offsetMs = 150 + Math.round(((k * 0.618034) % 1) * 800);
      let at = 0;
      for (;;) {
        const seen = readFires(file).length;
        await waitFor(
          "a run of the current leader",
          async () => (readFires(file).length > seen ? true : undefined),
          20_000,
        );
        at = readFires(file).at(-1)!.slot + offsetMs;
        if (at >= Date.now() + 5) break;
      }
      await sleep(at - Date.now());

      const survivors = c.nodes.filter((n) => n !== leader);
      const termBefore = (await getJson<Status>(`${leader.url}/v1/`))?.raft.term;
      const exited = new Promise((res) => leader.proc!.once("exit", res));
      const t0 = Date.now();
      leader.proc!.kill("SIGKILL");
      const [electedMs, writeMs, fire] = await Promise.all([
        elected(survivors, t0),
        firstWrite(survivors, t0, `failover-${profile}-${k}`),
        firstFire(file, t0),
      ]);
      await exited;
      const next = await c.waitForLeader(GIVE_UP_MS, survivors).catch(() => undefined);
      const termAfter = next ? (await getJson<Status>(`${next.url}/v1/`))?.raft.term : undefined;
      results.push({
        victim: leader.name,
        newLeader: next?.name ?? "?",
        offsetMs: t0 - (at - offsetMs),
        terms: termBefore !== undefined && termAfter !== undefined ? termAfter - termBefore : undefined,
        electedMs,
        writeMs,
        fireMs: fire?.ms,
        fireLateMs: fire?.lateMs,
        readyToFireMs:
          fire && electedMs !== undefined
            ? fire.ms - Math.max(electedMs, at - offsetMs + 1000 - t0)
            : undefined,
      });
      const f = (x: number | undefined) => (x === undefined ? "none" : `${x.toFixed(0)} ms`);
      process.stderr.write(
        `[${profile}] kill ${k + 1}/${kills}: ${leader.name} (+${offsetMs} ms after a slot) -> ${next?.name ?? "?"} (${results.at(-1)!.terms ?? "?"} term(s)); leader after ${f(electedMs)}, first write ${f(writeMs)}, first fire ${f(fire?.ms)} (${f(results.at(-1)!.readyToFireMs)} after leader and slot)\n`,
      );
      c.spawn(leader);
    }
    await settled(c);
    host.push(await hostLine(dir.path));
  } finally {
    await c.stop();
    dir.cleanup();
  }
  return { profile, results, host };
}

function line(label: string, xs: number[], target: number, misses: number): string {
  const f = (x: number) => `${(x / 1000).toFixed(3)} s`;
  const p99 = percentile(xs, 99);
  const met = misses === 0 && p99 < target;
  return `  ${label.padEnd(30)} n=${String(xs.length).padStart(3)}  p50=${f(percentile(xs, 50))}  p99=${f(p99)}  max=${f(Math.max(...xs))}${misses ? `  (${misses} never happened)` : ""}   target p99 < ${f(target)}: ${met ? "MET" : "NOT MET"}`;
}

const all: { profile: "default" | "fast"; results: Kill[]; host: string[] }[] = [];
for (const p of profiles) all.push(await run(p));
console.log(
  "failover: SIGKILL of the leader of a 3-node cluster (synchronous=FULL), each node with its local runner",
);
const figures: Figure[] = [];
for (const { profile, results, host } of all) {
  const range = profile === "default" ? "[1000, 2000)" : "[300, 600)";
  console.log(`\nprofile ${profile}: election timeouts ${range} ms, ${results.length} kills`);
  for (const h of host) console.log(`  ${h}`);
  const writes = results.flatMap((r) => (r.writeMs === undefined ? [] : [r.writeMs]));
  const fires = results.flatMap((r) => (r.fireMs === undefined ? [] : [r.fireMs]));
  const elect = results.flatMap((r) => (r.electedMs === undefined ? [] : [r.electedMs]));
  const ready = results.flatMap((r) => (r.readyToFireMs === undefined ? [] : [r.readyToFireMs]));
  const late = results.flatMap((r) => (r.fireLateMs === undefined ? [] : [r.fireLateMs]));
  console.log(
    line("kill -> first acknowledged write", writes, TARGET[profile], results.length - writes.length),
  );
  console.log(line("kill -> first scheduled fire", fires, TARGET[profile], results.length - fires.length));
  for (const [what, xs] of [
    ["first acknowledged write", writes],
    ["first scheduled fire", fires],
  ] as const)
    figures.push({
      figure: `leader SIGKILL → ${what}, p99 (${profile} profile, ${xs.length} of ${results.length} kills)`,
      ours: xs.length === results.length ? percentile(xs, 99) / 1000 : Number.POSITIVE_INFINITY,
      unit: "s",
      target: { max: TARGET[profile] / 1000 },
      reproduce: `node --import tsx bench/cluster-failover.ts ${results.length} ${profile}`,
    });
  const f = (x: number) => `${(x / 1000).toFixed(3)} s`;
  const split = results.filter((r) => (r.terms ?? 1) > 1).length;
  console.log(`  (elections that took more than one term, i.e. split votes: ${split} of ${results.length})`);
  console.log(
    `  (kill -> a survivor reports itself leader: p50=${f(percentile(elect, 50))} p99=${f(percentile(elect, 99))}; polled every 20 ms)`,
  );
  console.log(
    `  (first fire after the later of leader elected and slot due: p50=${f(percentile(ready, 50))} p99=${f(percentile(ready, 99))})`,
  );
  console.log(
    `  (first fire's lateness for its own slot: p50=${f(percentile(late, 50))} p99=${f(percentile(late, 99))})`,
  );
}
reportFigures("cluster-failover", figures);
