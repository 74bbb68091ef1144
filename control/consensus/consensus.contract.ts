import { afterEach, describe, expect, it } from "vitest";
import type { AppError } from "../../shared/errors";
import { type Logger, silentLogger } from "../../shared/logger";
import { lastApplied } from "../fsm/apply";
import type { Command } from "../fsm/commands";
import { validateJob } from "../jobs/validate-job";
import type { StateDb } from "../store/db";
import { getStoredJob } from "../store/job-queries";
import type { AppliedEntry, Consensus, EntryOrigin } from "./consensus";

/** One node of the group under test: its consensus and the state database it applies entries to. */
export interface ContractMember {
  id: string;
  consensus: Consensus;
  state: StateDb;
}

/** What the suite hands the group it opens. */
export interface ContractDeps {
  /** Every node logs through it (the suite looks for the failure of a throwing listener). */
  logger: Logger;
  /** Called with each node after it is built and before it starts (and again for a node restarted). */
  beforeStart(m: ContractMember): void;
}

/** A running group, on virtual time, as the suite drives it. */
export interface ContractGroup {
  /** The running nodes. */
  members(): ContractMember[];
  /** The node that leads now. */
  leader(): ContractMember;
  /** A running node that does not lead (a follower; for a one-voter group, a node not yet elected). */
  notLeading(): Promise<ContractMember>;
  /** Lets deliveries, drains and applies run; moves virtual time until `cond` holds (throws if never). */
  until(cond: () => boolean, what: string): Promise<void>;
  /**
   * Ends the leader's leadership; resolves once it lost it (and, in a group of several, another node
   * leads and the old leader follows it). Its first step is synchronous: nothing proposed just before
   * the call commits.
   */
  depose(): Promise<void>;
  /** Hands leadership to `to` and resolves once every node follows it; groups of several nodes only. */
  transfer?(to: ContractMember): Promise<void>;
  close(): Promise<void>;
}

/** What a group offers beyond the one-voter minimum. */
export interface ContractFeatures {
  /** Several voters: followers apply what the leader commits, and `transfer` works. */
  replicas: boolean;
}

const T0 = Date.UTC(2026, 0, 1);

/** A `job.put` of a job named `name` (the suite tells entries apart by the job they put). */
function put(name: string): Extract<Command, { type: "job.put" }> {
  const job = validateJob({
    name,
    schedule: "@every 1m",
    executor: "shell",
    executor_config: { command: "true" },
  });
  return { type: "job.put", at: T0, job };
}

const jobOf = (cmd: Command) => (cmd.type === "job.put" ? cmd.job.name : cmd.type);

/** One call of an applied listener, with what the listener could observe at that moment. */
interface Seen {
  index: number;
  job: string;
  origin: EntryOrigin;
  /** The apply transaction had committed (no transaction open on the state database). */
  committed: boolean;
  /** last_applied had reached the entry. */
  appliedHere: boolean;
  /** A job.put's job was readable from the state. */
  readable: boolean;
}

/** Records, per node, every applied entry and leadership change the suite's listeners see. */
class Recorder {
  readonly applied = new Map<string, Seen[]>();
  readonly leadership = new Map<string, boolean[]>();

  attach(m: ContractMember): void {
    const seen: Seen[] = [];
    const leads: boolean[] = [];
    this.applied.set(m.id, seen);
    this.leadership.set(m.id, leads);
    m.consensus.onApplied((e) => seen.push(observe(m.state, e)));
    m.consensus.onLeadership((l) => leads.push(l));
  }

  seen(id: string): Seen[] {
    return this.applied.get(id) ?? [];
  }

  /** The entries `id` saw that put one of `jobs`. */
  of(id: string, jobs: string[]): Seen[] {
    return this.seen(id).filter((s) => jobs.includes(s.job));
  }
}

function observe(state: StateDb, e: AppliedEntry): Seen {
  return {
    index: e.index,
    job: jobOf(e.cmd),
    origin: e.origin,
    committed: !state.sqlite.inTransaction,
    appliedHere: lastApplied(state) >= e.index,
    readable: e.cmd.type !== "job.put" || getStoredJob(state, e.cmd.job.name) !== undefined,
  };
}

/** Whether `p` had already settled when this was called: its outcome, or "pending". */
function settledYet<T>(p: Promise<T>): Promise<{ resolved: T } | { rejected: unknown } | "pending"> {
  // A settled promise's reaction is queued before the marker's, so it wins the race.
  return Promise.race([
    p.then(
      (v) => ({ resolved: v }),
      (e: unknown) => ({ rejected: e }),
    ),
    Promise.resolve().then(() => "pending" as const),
  ]);
}

const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

/**
 * The ordering guarantees of the `Consensus` interface (control/consensus/consensus.ts), checked
 * against a group `open` starts: proposals on its leader, listeners on every node.
 */
export function runConsensusContract(
  name: string,
  features: ContractFeatures,
  open: (deps: ContractDeps) => Promise<ContractGroup>,
): void {
  describe(`Consensus contract: ${name}`, () => {
    let group: ContractGroup | undefined;
    let rec: Recorder;
    let errors: string[];

    /** Opens a group whose every node the recorder watches from before it starts. */
    async function start(): Promise<ContractGroup> {
      rec = new Recorder();
      errors = [];
      const logger: Logger = {
        ...silentLogger,
        error: (msg) => errors.push(msg),
        child: () => logger,
      };
      group = await open({ logger, beforeStart: (m) => rec.attach(m) });
      return group;
    }

    afterEach(async () => {
      await group?.close();
      group = undefined;
    });

    /** Waits until every node has applied as far as the leader. */
    async function caughtUp(g: ContractGroup): Promise<void> {
      const target = lastApplied(g.leader().state);
      await g.until(() => g.members().every((m) => lastApplied(m.state) >= target), "followers to catch up");
    }

    it("propose resolves with the typed result of its command once it is applied here", async () => {
      const g = await start();
      const { consensus, state } = g.leader();
      const created = await consensus.propose(put("a"));
      expect(created).toEqual({
        ok: true,
        value: { created: true },
        events: [{ kind: "job.changed", name: "a" }],
      });
      expect(getStoredJob(state, "a")?.spec.name).toBe("a");
      const updated = await consensus.propose(put("a"));
      expect(updated).toMatchObject({ ok: true, value: { created: false } });
      // A command the state machine refuses is a result, not a rejection.
      const refused = await consensus.propose({ type: "job.delete", at: T0, name: "missing" });
      expect(refused).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
    });

    it("applied listeners see each entry once, in log order, after its apply committed and before its proposer resumes", async () => {
      const g = await start();
      const leader = g.leader();
      const second: AppliedEntry[] = [];
      leader.consensus.onApplied((e) => second.push(e));
      const jobs = Array.from({ length: 12 }, (_, i) => `j${i}`);
      const resumed = await Promise.all(
        jobs.map((j) =>
          leader.consensus.propose(put(j)).then((r) => ({ r, listened: rec.of(leader.id, [j]).length })),
        ),
      );
      for (const { r, listened } of resumed) {
        expect(r.ok).toBe(true);
        // The listeners had run when the proposer's continuation ran.
        expect(listened).toBe(1);
      }
      const seen = rec.of(leader.id, jobs);
      expect(seen.map((s) => s.job).sort()).toEqual([...jobs].sort());
      expect(increasing(rec.seen(leader.id).map((s) => s.index))).toBe(true);
      for (const s of seen) expect(s).toMatchObject({ committed: true, appliedHere: true, readable: true });
      // Every listener sees the same entries in the same order.
      expect(second.filter((e) => jobs.includes(jobOf(e.cmd))).map((e) => e.index)).toEqual(
        seen.map((s) => s.index),
      );
      if (!features.replicas) return;
      await caughtUp(g);
      for (const m of g.members()) {
        if (m.id === leader.id) continue;
        const there = rec.of(m.id, jobs);
        expect(there.map((s) => [s.index, s.job])).toEqual(seen.map((s) => [s.index, s.job]));
        expect(increasing(rec.seen(m.id).map((s) => s.index))).toBe(true);
        for (const s of there)
          expect(s).toMatchObject({ committed: true, appliedHere: true, readable: true });
      }
    });

    it("an entry is awaited on the node whose propose waits for it and replicated everywhere else", async () => {
      const g = await start();
      const leader = g.leader();
      await Promise.all(["a", "b"].map((j) => leader.consensus.propose(put(j))));
      expect(rec.of(leader.id, ["a", "b"]).map((s) => s.origin)).toEqual(["awaited", "awaited"]);
      if (!features.replicas) return;
      await caughtUp(g);
      for (const m of g.members())
        if (m.id !== leader.id)
          expect(rec.of(m.id, ["a", "b"]).map((s) => s.origin)).toEqual(["replicated", "replicated"]);
    });

    it.runIf(features.replicas)(
      "after a leadership transfer the new leader's proposals are awaited there and replicated on the old leader",
      async () => {
        const g = await start();
        const old = g.leader();
        expect((await old.consensus.propose(put("before"))).ok).toBe(true);
        const next = g.members().find((m) => m.id !== old.id)!;
        await g.transfer!(next);
        expect(next.consensus.isLeader()).toBe(true);
        expect(rec.leadership.get(next.id)).toEqual([true]);
        expect(rec.leadership.get(old.id)).toEqual([true, false]);
        expect((await next.consensus.propose(put("after"))).ok).toBe(true);
        await caughtUp(g);
        expect(rec.of(next.id, ["before", "after"]).map((s) => s.origin)).toEqual(["replicated", "awaited"]);
        expect(rec.of(old.id, ["before", "after"]).map((s) => s.origin)).toEqual(["awaited", "replicated"]);
        await expect(old.consensus.propose(put("stale"))).rejects.toMatchObject({ code: "NOT_LEADER" });
      },
    );

    it("a throwing listener is logged and the next listener still runs", async () => {
      const g = await start();
      const { consensus } = g.leader();
      let thrown = 0;
      const after: string[] = [];
      consensus.onApplied(() => {
        thrown++;
        throw new Error("listener bug");
      });
      consensus.onApplied((e) => after.push(jobOf(e.cmd)));
      expect((await consensus.propose(put("a"))).ok).toBe(true);
      expect(thrown).toBeGreaterThan(0);
      expect(after).toContain("a");
      expect(errors.length).toBeGreaterThan(0);
    });

    it("a listener may propose without awaiting; that entry goes after the one it saw", async () => {
      const g = await start();
      const leader = g.leader();
      let followUp: Promise<unknown> | undefined;
      leader.consensus.onApplied((e) => {
        if (jobOf(e.cmd) === "first" && e.origin === "awaited")
          followUp = leader.consensus.propose(put("second"));
      });
      expect((await leader.consensus.propose(put("first"))).ok).toBe(true);
      expect(followUp).toBeDefined();
      expect(await followUp).toMatchObject({ ok: true });
      const [first, second] = rec.of(leader.id, ["first", "second"]);
      expect([first?.job, second?.job]).toEqual(["first", "second"]);
      expect(second!.index).toBeGreaterThan(first!.index);
      expect(second!.origin).toBe("awaited");
    });

    it("leadership listeners hear the gain, and on the loss every waiting propose was already rejected with TIMEOUT", async () => {
      const g = await start();
      const leader = g.leader();
      // The gain is heard once the node has handled its election (not necessarily by the time
      // isLeader() turns true).
      await g.until(() => rec.leadership.get(leader.id)?.at(-1) === true, "the leader to hear its gain");
      const leads = g.members().filter((m) => rec.leadership.get(m.id)?.at(-1) === true);
      expect(leads.map((m) => m.id)).toEqual([leader.id]);
      expect(rec.leadership.get(leader.id)).toEqual([true]);

      const waiting = leader.consensus.propose(put("lost"));
      const outcome = waiting.then(
        () => "committed",
        (e: unknown) => e,
      );
      const atLoss: Promise<unknown>[] = [];
      leader.consensus.onLeadership((l) => {
        if (!l) atLoss.push(settledYet(waiting));
      });
      await g.depose();
      expect(rec.leadership.get(leader.id)).toEqual([true, false]);
      expect(atLoss).toHaveLength(1);
      const seenAtLoss = (await atLoss[0]) as { rejected: AppError };
      expect(seenAtLoss).toHaveProperty("rejected");
      expect(seenAtLoss.rejected).toMatchObject({ code: "TIMEOUT", details: { outcome: "unknown" } });
      expect(await outcome).toBe(seenAtLoss.rejected);
      expect(leader.consensus.isLeader()).toBe(false);
      if (!features.replicas) return;
      const next = g.leader();
      expect(next.id).not.toBe(leader.id);
      expect(rec.leadership.get(next.id)?.at(-1)).toBe(true);
    });

    it("a node that does not lead refuses with NOT_LEADER before anything is written", async () => {
      const g = await start();
      const m = await g.notLeading();
      const everyone = [...g.members().filter((x) => x.id !== m.id), m];
      const before = everyone.map((x) => x.consensus.status().lastLogIndex);
      await expect(m.consensus.propose(put("refused"))).rejects.toMatchObject({ code: "NOT_LEADER" });
      await g.until(() => true, "messages to settle");
      expect(everyone.map((x) => x.consensus.status().lastLogIndex)).toEqual(before);
      for (const x of everyone) expect(rec.of(x.id, ["refused"])).toEqual([]);
      expect(getStoredJob(m.state, "refused")).toBeUndefined();
    });
  });
}
