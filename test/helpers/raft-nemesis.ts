import type { Random } from "../../control/raft/random";
import { type RaftCluster, type SimNode, TICK } from "./raft-cluster";

/** Relative weights of the fault kinds; 0 disables one. */
export interface NemesisMix {
  crash: number;
  pause: number;
  partition: number;
  oneWay: number;
  transfer: number;
  membership: number;
  weather: number;
  /** A spell of knocking out each new leader soon after it is elected (Raft paper, figure 8). */
  hunt: number;
}

/** The default mix: every fault, leader-heavy. */
export const defaultMix: NemesisMix = {
  crash: 4,
  pause: 2,
  partition: 4,
  oneWay: 2,
  transfer: 1,
  membership: 2,
  weather: 1,
  hunt: 6,
};

/**
 * Injects faults at random moments: crashes (some mid-apply) and restarts, pauses, symmetric and
 * one-way partitions, leadership transfers, membership changes and changes in packet loss and
 * duplication. Targets lean towards the leader, where faults hurt most. Every fault undoes itself
 * after a while, and `healAll` on the cluster undoes whatever is left.
 */
export class Nemesis {
  private stopped = false;
  private huntUntil = 0;
  /** Fault log, for the failure report. */
  readonly log: string[] = [];

  constructor(
    private readonly cluster: RaftCluster,
    private readonly random: Random,
    private readonly baseVoters: number,
    private readonly mix: NemesisMix = defaultMix,
    private readonly gapTicks: [number, number] = [5, 40],
  ) {}

  /** Starts injecting; the first fault comes after `afterTicks`. */
  start(afterTicks: number): void {
    this.cluster.schedule(afterTicks * TICK, "nemesis", () => this.act());
  }

  /** No new faults after this (pending undo actions still run). */
  stop(): void {
    this.stopped = true;
  }

  private ticks(lo: number, hi: number): number {
    return (lo + this.random.int(hi - lo + 1)) * TICK;
  }

  private pick<T>(xs: readonly T[]): T | undefined {
    return xs[this.random.int(xs.length)];
  }

  private target(): SimNode | undefined {
    const leader = this.cluster.leader();
    if (leader && this.random.next() < 0.5) return leader;
    return this.pick([...this.cluster.nodes.values()].filter((n) => n.raft));
  }

  private note(line: string): void {
    this.log.push(`t=${this.cluster.now} ${line}`);
  }

  private act(): void {
    if (this.stopped) return;
    const kinds = Object.entries(this.mix) as [keyof NemesisMix, number][];
    const total = kinds.reduce((a, [, w]) => a + w, 0);
    let roll = this.random.next() * total;
    let kind: keyof NemesisMix = "crash";
    for (const [k, w] of kinds) {
      roll -= w;
      if (roll < 0) {
        kind = k;
        break;
      }
    }
    this[kind]();
    const [lo, hi] = this.gapTicks;
    this.cluster.schedule(this.ticks(lo, hi), "nemesis", () => this.act());
  }

  private crash(): void {
    const n = this.target();
    if (!n) return;
    const midApply = this.random.next() < 0.3;
    this.note(`crash ${n.id}${midApply ? " mid-apply" : ""}`);
    this.cluster.crash(n.id, midApply, this.random.next() < 0.5);
    this.cluster.schedule(this.ticks(2, 50), `restart ${n.id}`, () => this.cluster.restart(n.id));
  }

  private pause(): void {
    const n = this.target();
    if (!n || n.paused) return;
    this.note(`pause ${n.id}`);
    this.cluster.pause(n.id);
    this.cluster.schedule(this.ticks(2, 40), `resume ${n.id}`, () => this.cluster.resume(n.id));
  }

  private partition(): void {
    const ids = this.cluster.ids();
    const leader = this.cluster.leader();
    const shuffled = [...ids];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = this.random.int(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j] as string, shuffled[i] as string];
    }
    let groups: string[][];
    if (leader && this.random.next() < 0.5) {
      groups = [[leader.id], ids.filter((x) => x !== leader.id)];
    } else {
      const cut = 1 + this.random.int(ids.length - 1);
      groups = [shuffled.slice(0, cut), shuffled.slice(cut)];
    }
    this.note(`partition ${groups.map((g) => g.join(",")).join(" | ")}`);
    this.cluster.trace.add(this.cluster.now, `PARTITION ${groups.map((g) => g.join(",")).join(" | ")}`);
    this.cluster.net.partition(groups);
    this.cluster.schedule(this.ticks(5, 60), "heal partition", () => this.cluster.net.heal());
  }

  private oneWay(): void {
    const ids = this.cluster.ids();
    const cuts: string[] = [];
    const leader = this.cluster.leader();
    for (let i = 1 + this.random.int(3); i > 0; i--) {
      const from = leader && this.random.next() < 0.5 ? leader.id : this.pick(ids);
      const to = this.pick(ids);
      if (!from || !to || from === to) continue;
      this.cluster.net.blockOneWay(from, to);
      cuts.push(`${from}>${to}`);
    }
    this.note(`one-way ${cuts.join(" ")}`);
    this.cluster.trace.add(this.cluster.now, `ONE-WAY ${cuts.join(" ")}`);
    this.cluster.schedule(this.ticks(5, 50), "heal one-way", () => this.cluster.net.heal());
  }

  private transfer(): void {
    const leader = this.cluster.leader();
    const r = leader?.raft;
    if (!r) return;
    const to = this.pick(r.conf.voters.filter((v) => v !== r.id));
    if (!to) return;
    this.note(`transfer ${r.id} → ${to}`);
    r.transferLeadership(to);
    if (leader) this.cluster.pump(leader);
  }

  private membership(): void {
    const leader = this.cluster.leader();
    const r = leader?.raft;
    if (!leader || !r) return;
    const { voters, learners } = r.conf;
    const outsiders = this.cluster.ids().filter((id) => !voters.includes(id) && !learners.includes(id));
    const grow =
      voters.length < this.baseVoters || (voters.length === this.baseVoters && this.random.next() < 0.5);
    let res: { ok: boolean };
    if (grow && (outsiders.length > 0 || learners.length > 0)) {
      const node = this.pick(learners.length > 0 ? learners : outsiders) ?? "";
      res = r.proposeConfChange({ type: "addVoter", node });
      this.note(`add ${node}: ${res.ok ? "proposed" : "refused"}`);
    } else {
      const node = this.pick(voters) ?? "";
      res = r.proposeConfChange({ type: "remove", node });
      this.note(`remove ${node}: ${res.ok ? "proposed" : "refused"}`);
    }
    this.cluster.pump(leader);
  }

  /**
   * For a while, knock out every new leader: the moment it is elected (its no-op dies in flight),
   * the moment it first commits (anything it sent after that dies), or a little later. This is the
   * schedule behind figure 8 of the Raft paper, where leaders come and go leaving divergent tails.
   */
  private hunt(): void {
    if (this.huntUntil > this.cluster.now) return;
    this.huntUntil = this.cluster.now + this.ticks(60, 200);
    this.note("hunt leaders");
    const watched = new Map<string, { commit: number; mode: "elected" | "commit" | "later" }>();
    const observer = () => {
      if (this.stopped || this.cluster.now >= this.huntUntil) {
        this.cluster.observers.delete(observer);
        return;
      }
      const l = this.cluster.leader();
      const r = l?.raft;
      if (!l || !r) return;
      const key = `${l.id}@${r.term}`;
      let w = watched.get(key);
      if (!w) {
        const roll = this.random.next();
        w = { commit: r.commitIndex, mode: roll < 0.4 ? "elected" : roll < 0.8 ? "commit" : "later" };
        watched.set(key, w);
        if (w.mode === "elected") this.strike(l);
        else if (w.mode === "later") {
          this.cluster.schedule(this.random.int(3 * TICK), `strike ${l.id}`, () => {
            if (l.raft?.role === "leader" && l.raft.term === r.term) this.strike(l);
          });
        }
      } else if (w.mode === "commit" && r.commitIndex > w.commit) {
        w.mode = "later";
        this.strike(l);
      }
    };
    this.cluster.observers.add(observer);
  }

  private strike(l: SimNode): void {
    if (this.random.next() < 0.5) {
      this.note(`strike: crash ${l.id}`);
      this.cluster.crash(l.id, this.random.next() < 0.3, true);
      this.cluster.schedule(this.ticks(2, 25), `restart ${l.id}`, () => this.cluster.restart(l.id));
    } else {
      const rest = this.cluster.ids().filter((x) => x !== l.id);
      this.note(`strike: isolate ${l.id}`);
      this.cluster.trace.add(this.cluster.now, `PARTITION ${l.id} | ${rest.join(",")}`);
      this.cluster.net.partition([[l.id], rest]);
      this.cluster.schedule(this.ticks(3, 25), "heal partition", () => this.cluster.net.heal());
    }
  }

  private weather(): void {
    const w = this.cluster.net.weather;
    this.cluster.net.weather = {
      ...w,
      dropRate: this.pick([0, 0.02, 0.05, 0.1, 0.2]) ?? 0,
      dupRate: this.pick([0, 0.02, 0.05]) ?? 0,
    };
    this.note(`weather drop=${this.cluster.net.weather.dropRate} dup=${this.cluster.net.weather.dupRate}`);
  }
}
