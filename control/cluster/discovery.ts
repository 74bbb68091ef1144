import type { Logger } from "../../shared";
import { AppError, isAppError, nodeUrl } from "../../shared";
import type { Hello, PeerInfo } from "./cluster-wire";

/** How this node enters the cluster. */
export type Entry =
  | { mode: "bootstrap"; voters: string[]; peers: Map<string, string> }
  | { mode: "join"; peers: Map<string, string> };

/** Options for discovery. */
export interface DiscoveryOptions {
  self: { id: string; addr: string; bootstrapExpect: number };
  join: string[];
  secret: string;
  logger: Logger;
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  /** Stop waiting (the node is shutting down). */
  cancelled: () => boolean;
  /** https when the cluster runs with TLS. */
  scheme?: "http" | "https";
}

function headers(secret: string): Record<string, string> {
  return secret
    ? { authorization: `Bearer ${secret}`, "content-type": "application/json" }
    : { "content-type": "application/json" };
}

/**
 * Finds the other control nodes through the --join addresses. If any of them already runs a
 * cluster, this node joins it; otherwise, once `bootstrap-expect` distinct nodes (this one
 * included) know of each other, every one of them bootstraps with the same sorted voter set.
 */
export async function discover(o: DiscoveryOptions): Promise<Entry> {
  const peers = new Map<string, string>([[o.self.id, o.self.addr]]);
  let lastReport = "";
  for (;;) {
    if (o.cancelled()) throw new AppError("UNAVAILABLE", "stopped while discovering peers");
    const addrs = new Set([...o.join, ...[...peers.values()].filter((a) => a !== o.self.addr)]);
    for (const addr of addrs) {
      try {
        const res = await o.fetch(`${nodeUrl(addr, o.scheme)}/_raft/hello`, {
          headers: headers(o.secret),
          signal: AbortSignal.timeout(2000),
        });
        if (res.status === 401)
          throw new AppError(
            "UNAUTHORIZED",
            `peer ${addr} rejected the cluster secret; every node needs the same --cluster-secret`,
          );
        if (!res.ok) continue;
        const h = (await res.json()) as Hello;
        peers.set(h.id, h.addr);
        for (const [id, a] of Object.entries(h.peers)) if (!peers.has(id)) peers.set(id, a);
        if (h.started) return { mode: "join", peers };
        if (h.bootstrapExpect !== o.self.bootstrapExpect && h.bootstrapExpect > 0) {
          o.logger.warn("peer expects a different cluster size", {
            peer: h.id,
            theirs: h.bootstrapExpect,
            ours: o.self.bootstrapExpect,
          });
        }
      } catch (e) {
        if (isAppError(e)) throw e;
      }
    }
    if (o.self.bootstrapExpect > 1 && peers.size >= o.self.bootstrapExpect) {
      return { mode: "bootstrap", voters: [...peers.keys()].sort(), peers };
    }
    const report = [...peers.keys()].sort().join(", ");
    if (report !== lastReport) {
      o.logger.info("waiting for control nodes to bootstrap", {
        expect: o.self.bootstrapExpect,
        known: report,
      });
      lastReport = report;
    }
    await o.sleep(300);
  }
}

/** Asks the cluster (following NOT_LEADER to the leader) to add this node; retries until it answers. */
export async function requestJoin(o: DiscoveryOptions, via: Iterable<string>): Promise<void> {
  const targets = [...via];
  for (let attempt = 0; ; attempt++) {
    if (o.cancelled()) throw new AppError("UNAVAILABLE", "stopped while joining");
    for (let addr of targets) {
      for (let hop = 0; hop < 3; hop++) {
        try {
          const res = await o.fetch(`${nodeUrl(addr, o.scheme)}/_raft/join`, {
            method: "POST",
            headers: headers(o.secret),
            body: JSON.stringify({ id: o.self.id, addr: o.self.addr }),
            signal: AbortSignal.timeout(5000),
          });
          if (res.ok) return;
          const body = (await res.json().catch(() => null)) as {
            error?: { code?: string; leader?: string; message?: string };
          } | null;
          if (body?.error?.code === "NOT_LEADER" && body.error.leader) {
            addr = body.error.leader;
            continue;
          }
          if (body?.error?.code === "UNAUTHORIZED")
            throw new AppError("UNAUTHORIZED", body.error.message ?? "cluster secret rejected");
        } catch (e) {
          if (isAppError(e)) throw e;
        }
        break;
      }
    }
    if (attempt % 10 === 0) o.logger.info("waiting to join the cluster", { via: targets.join(", ") });
    await o.sleep(500);
  }
}

/**
 * The voter a leaving leader hands leadership to (from the leader's RaftStatus): a voter other than itself whose Raft stream answers
 * (`reachable`) and whose log holds everything committed; the most caught-up first, then by id.
 * Undefined when there is none (the leader then removes itself instead).
 */
export function transferTarget(
  st: {
    conf: { voters: readonly string[] };
    commitIndex: number;
    progress?: Readonly<Record<string, { match: number }>>;
  },
  self: string,
  reachable: (id: string) => boolean,
): string | undefined {
  const match = (id: string) => st.progress?.[id]?.match ?? 0;
  return st.conf.voters
    .filter((v) => v !== self && reachable(v) && match(v) >= st.commitIndex)
    .sort((a, b) => match(b) - match(a) || a.localeCompare(b))[0];
}

/** What became of a request to leave the configuration. */
export type RemoveOutcome =
  | { removed: true }
  | { removed: false; reason: "cancelled" | "deadline"; lastError: string };

/**
 * Asks the leader to remove this node (POST /_raft/remove) and reads its answer: done once the leader
 * says the node is not a member (its peer list without it, or NOT_FOUND for a retry whose first answer
 * was lost). NOT_LEADER is followed to the address it names; no known leader, a membership change
 * still pending (CONFLICT) or a network error are retried until `deadline` (a time of `now`).
 * `leaderAddr` gives the leader's address as this node currently knows it.
 */
export async function requestRemove(
  o: DiscoveryOptions & { now: () => number },
  leaderAddr: () => string | undefined,
  deadline: number,
): Promise<RemoveOutcome> {
  let addr: string | undefined;
  let lastError = "no leader known";
  while (o.now() < deadline) {
    if (o.cancelled()) return { removed: false, reason: "cancelled", lastError };
    addr ??= leaderAddr();
    if (!addr) {
      await o.sleep(100);
      continue;
    }
    let next: string | undefined;
    try {
      const res = await o.fetch(`${nodeUrl(addr, o.scheme)}/_raft/remove`, {
        method: "POST",
        headers: headers(o.secret),
        body: JSON.stringify({ id: o.self.id }),
        signal: AbortSignal.timeout(Math.max(1000, Math.min(10_000, deadline - o.now()))),
      });
      const body = (await res.json().catch(() => null)) as
        | PeerInfo[]
        | { error?: { code?: string; leader?: string; message?: string } }
        | null;
      if (res.ok && Array.isArray(body)) {
        if (!body.some((p) => p.id === o.self.id)) return { removed: true };
        lastError = `${addr} answered but still lists this node`;
      } else {
        const err = (body && !Array.isArray(body) ? body.error : undefined) ?? {};
        if (err.code === "NOT_FOUND") return { removed: true };
        if (err.code === "UNAUTHORIZED")
          throw new AppError("UNAUTHORIZED", err.message ?? "cluster secret rejected");
        if (err.code === "NOT_LEADER" && err.leader) next = err.leader;
        lastError = `${addr}: ${err.code ?? `HTTP ${res.status}`} ${err.message ?? ""}`.trim();
      }
    } catch (e) {
      if (isAppError(e)) throw e;
      lastError = `${addr}: ${String(e)}`;
    }
    addr = next;
    await o.sleep(next ? 20 : 200);
  }
  return { removed: false, reason: "deadline", lastError };
}

/**
 * Whether the cluster's leader lists `o.self.id` in its configuration, asked through any of `addrs`
 * (GET /_raft/hello to find the leader, then its /_raft/peers); "unknown" when no leader answers.
 */
export async function membershipAtLeader(
  o: DiscoveryOptions,
  addrs: Iterable<string>,
): Promise<"member" | "removed" | "unknown"> {
  const queue = [...new Set(addrs)];
  const get = async <T>(addr: string, path: string): Promise<T | undefined> => {
    try {
      const res = await o.fetch(`${nodeUrl(addr, o.scheme)}${path}`, {
        headers: headers(o.secret),
        signal: AbortSignal.timeout(2000),
      });
      return res.ok ? ((await res.json()) as T) : undefined;
    } catch {
      return undefined;
    }
  };
  for (let i = 0; i < queue.length && i < 16; i++) {
    const addr = queue[i]!;
    const h = await get<Hello>(addr, "/_raft/hello");
    if (!h?.leader) continue;
    if (h.leader !== h.id) {
      const at = h.peers[h.leader];
      if (at && !queue.includes(at)) queue.splice(i + 1, 0, at);
      continue;
    }
    const peers = await get<PeerInfo[]>(addr, "/_raft/peers");
    if (peers) return peers.some((p) => p.id === o.self.id) ? "member" : "removed";
  }
  return "unknown";
}
