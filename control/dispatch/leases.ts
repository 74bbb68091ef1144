import type { ExecutionFinishCommand } from "../fsm";

/** One running execution's lease: the runner holding it and when it runs out. */
export interface Lease {
  node: string;
  deadline: number;
}

/**
 * The leader's leases on running executions: every report from a runner about an execution
 * (hello, ack, ping, output) renews it, and one not renewed for `leaseMs` has expired — its runner
 * stopped reporting, so the execution is recorded as lost instead of blocking its job forever.
 */
export class Leases {
  private readonly byId = new Map<string, Lease>();

  constructor(readonly leaseMs: number) {}

  /** Starts (or restarts) the lease of an execution held by `node`. */
  grant(id: string, node: string, now: number): void {
    this.byId.set(id, { node, deadline: now + this.leaseMs });
  }

  /** Extends the leases of these executions (unknown ids are ignored); returns the ids not leased. */
  renew(ids: readonly string[], now: number): string[] {
    const unknown: string[] = [];
    for (const id of ids) {
      const lease = this.byId.get(id);
      if (lease) lease.deadline = now + this.leaseMs;
      else unknown.push(id);
    }
    return unknown;
  }

  /** Ends a lease (the execution finished). */
  release(id: string): void {
    this.byId.delete(id);
  }

  /** Removes and returns the leases that ran out by `now`. */
  takeExpired(now: number): { id: string; lease: Lease }[] {
    const out: { id: string; lease: Lease }[] = [];
    for (const [id, lease] of this.byId) {
      if (lease.deadline > now) continue;
      this.byId.delete(id);
      out.push({ id, lease });
    }
    return out;
  }

  /** Drops every lease (leadership lost). */
  clear(): void {
    this.byId.clear();
  }

  /** How often to look for expired leases: a quarter of the lease, within 0.1 s and 1 s. */
  checkEveryMs(): number {
    return Math.max(100, Math.min(1000, this.leaseMs / 4));
  }
}

/** The finish that records an execution whose lease expired as lost, with the output seen so far. */
export function lostFinish(p: {
  id: string;
  node: string;
  liveOutput: string;
  leaseMs: number;
  now: number;
}): ExecutionFinishCommand {
  return {
    type: "execution.finish",
    at: p.now,
    id: p.id,
    state: "lost",
    success: false,
    output:
      `${p.liveOutput}\nlost: runner "${p.node}" stopped reporting this execution for ${Math.round(p.leaseMs / 1000)}s`.trimStart(),
    exitCode: null,
    finishedAt: p.now,
  };
}
