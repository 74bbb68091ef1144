import { RaftInvariantError } from "../../control/raft/log";
import type { RaftTunablesInput } from "../../control/raft/options";
import { forkRandom, type Random, seededRandom } from "../../control/raft/random";
import { checkLinearizable, kvModel } from "../lincheck";
import { ApplyOrderError } from "./kv-state-machine";
import { KvWorkload, type WorkloadStats } from "./kv-workload";
import { RaftCluster } from "./raft-cluster";
import { SafetyViolation } from "./raft-invariants";
import { Nemesis } from "./raft-nemesis";
import type { NetWeather } from "./sim-network";

/** Shape and length of one simulated run. */
export interface SimRunOptions {
  voters: 3 | 5;
  /** Ticks of client load under faults. */
  faultTicks: number;
  /** After everything heals, a leader must be elected and a write committed within this many ticks. */
  livenessTicks: number;
  /** Run the linearizability checker on the client history. */
  lincheck?: boolean;
}

/** Outcome of one seed. */
export interface SimRunResult {
  seed: number;
  voters: number;
  ok: boolean;
  failure?: string;
  report?: string;
  stats: WorkloadStats & {
    ops: number;
    ticksToRecover: number;
    lincheck: string;
    lincheckMs: number;
    highestCommitted: number;
  };
}

const ELECTION_TICKS = 10;
const LINCHECK_TIMEOUT_MS = 10_000;

/** Default run length, tuned so 500 seeds fit the test budget on a 2-core machine. */
export const defaultRun = { faultTicks: 1500, livenessTicks: 20 * ELECTION_TICKS };

function pick<T>(r: Random, xs: readonly T[]): T {
  const x = xs[r.int(xs.length)];
  if (x === undefined) throw new Error("empty choice");
  return x;
}

/**
 * Per-seed knobs: small batches, windows and chunks make pipelining, flow control, snapshots and
 * chunked transfer happen constantly instead of only under load.
 */
function knobs(seed: number): { tunables: RaftTunablesInput; weather: NetWeather; diskMaxDelay: number } {
  const r = seededRandom(seed ^ 0x5bd1e995);
  return {
    tunables: {
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: 1,
      maxEntriesPerMsg: pick(r, [1, 1, 1, 2, 4, 16]),
      maxInflight: pick(r, [1, 2, 4, 64]),
      snapshotThreshold: pick(r, [16, 32, 64]),
      trailingEntries: pick(r, [0, 4, 16]),
      snapshotChunkSize: pick(r, [64, 512, 4096]),
    },
    weather: {
      dropRate: pick(r, [0, 0.02, 0.05]),
      dupRate: pick(r, [0, 0.02]),
      minDelay: 1,
      maxDelay: pick(r, [3, 10, 25]),
    },
    diskMaxDelay: pick(r, [0, 2, 8]),
  };
}

/** The seeds a test file runs: SIM_SEED=S replays one; SIM_SEEDS=N sets how many (split by cluster size). */
export function seedsFor(voters: 3 | 5, defaultCount: number): number[] {
  const one = process.env.SIM_SEED;
  const sizeOf = (s: number) => (s % 2 === 0 ? 3 : 5);
  if (one !== undefined && one !== "") {
    const s = Number(one);
    return sizeOf(s) === voters ? [s] : [];
  }
  const n = Number(process.env.SIM_SEEDS ?? defaultCount);
  const out: number[] = [];
  for (let s = 1; s <= n; s++) if (sizeOf(s) === voters) out.push(s);
  return out;
}

/** Writes through the leader until one commits; returns the ticks it took, or null past the bound. */
function awaitCommittedWrite(cluster: RaftCluster, maxTicks: number): number | null {
  const start = cluster.now;
  let committed = false;
  let attempt = 0;
  let proposedTo = "";
  const ok = cluster.runUntilTrue(() => {
    if (committed) return true;
    const l = cluster.leader();
    const key = l?.raft ? `${l.id}@${l.raft.term}` : "";
    if (l && key !== proposedTo) {
      attempt++;
      const id = `liveness.${attempt}`;
      const cmd = JSON.stringify({ id, op: "put", key: "liveness", value: String(attempt) });
      if (cluster.submitWrite(l.id, id, cmd, () => (committed = true))) proposedTo = key;
    }
    return false;
  }, maxTicks);
  return ok ? Math.round((cluster.now - start) / 10) : null;
}

/** Runs one seed: client load under a random nemesis, then heal, liveness and linearizability checks. */
export function runSeed(seed: number, opts: SimRunOptions): SimRunResult {
  const k = knobs(seed);
  const cluster = new RaftCluster({
    seed,
    voters: opts.voters,
    spares: 1,
    tunables: k.tunables,
    weather: k.weather,
    diskMaxDelay: k.diskMaxDelay,
    tickJitter: 1,
  });
  const workload = new KvWorkload(cluster, forkRandom(cluster.random), {
    clients: opts.voters === 3 ? 3 : 4,
    keys: ["x", "y", "z"],
    opTimeoutTicks: 4 * ELECTION_TICKS,
    thinkTicks: 3,
  });
  const nemesis = new Nemesis(cluster, forkRandom(cluster.random), opts.voters);
  const result: SimRunResult = {
    seed,
    voters: opts.voters,
    ok: true,
    stats: {
      ...workload.stats,
      ops: 0,
      ticksToRecover: 0,
      lincheck: "skipped",
      lincheckMs: 0,
      highestCommitted: 0,
    },
  };
  const fail = (why: string) => {
    result.ok = false;
    result.failure = why;
    result.report = [
      `seed ${seed} (${opts.voters} nodes) failed at t=${cluster.now}: ${why}`,
      `replay: SIM_SEED=${seed} npx vitest run test/raft-sim`,
      `knobs: ${JSON.stringify(k)}`,
      "nodes:",
      ...[...cluster.nodes.values()].map(
        (n) => `  ${n.id} ${n.raft ? JSON.stringify(n.raft.status()) : "crashed"}`,
      ),
      "faults (last 15):",
      ...nemesis.log.slice(-15).map((l) => `  ${l}`),
      "last events:",
      cluster.trace.format(),
    ].join("\n");
  };
  try {
    workload.start();
    nemesis.start(3 * ELECTION_TICKS);
    cluster.runTicks(opts.faultTicks);
    nemesis.stop();
    cluster.healAll({ dropRate: 0, dupRate: 0, minDelay: 1, maxDelay: k.weather.maxDelay });
    const took = awaitCommittedWrite(cluster, opts.livenessTicks);
    if (took === null) {
      fail(`liveness: no leader committed a write within ${opts.livenessTicks} ticks after healing`);
      return result;
    }
    result.stats.ticksToRecover = took;
    workload.stop();
    cluster.runUntilTrue(() => !workload.busy(), 5 * ELECTION_TICKS);
    workload.finish();
    Object.assign(result.stats, workload.stats, {
      ops: workload.history.length,
      highestCommitted: cluster.invariants.highestCommitted,
    });
    if (opts.lincheck !== false) {
      const t0 = performance.now();
      const lin = checkLinearizable(kvModel, workload.history, { timeoutMs: LINCHECK_TIMEOUT_MS });
      result.stats.lincheckMs = Math.round(performance.now() - t0);
      result.stats.lincheck = lin.result;
      // A correct run's history checks in milliseconds; a search that runs out of time is treated as a
      // failure so that a hard-to-refute history can never pass silently.
      if (lin.result !== "ok") fail(`linearizability ${lin.result}: ${lin.info ?? ""}`);
    }
  } catch (err) {
    if (
      err instanceof SafetyViolation ||
      err instanceof RaftInvariantError ||
      err instanceof ApplyOrderError
    ) {
      fail(`${err.name}: ${err.message}`);
    } else {
      fail(`unexpected ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
  return result;
}
