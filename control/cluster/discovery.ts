import { AppError } from "../../shared/errors";
import type { Logger } from "../../shared/logger";
import type { Hello } from "./cluster-routes";
import { toUrl } from "./peer-book";

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
        const res = await o.fetch(`${toUrl(addr, o.scheme ?? "http")}/_raft/hello`, {
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
        if (e instanceof AppError) throw e;
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
          const res = await o.fetch(`${toUrl(addr, o.scheme ?? "http")}/_raft/join`, {
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
          if (e instanceof AppError) throw e;
        }
        break;
      }
    }
    if (attempt % 10 === 0) o.logger.info("waiting to join the cluster", { via: targets.join(", ") });
    await o.sleep(500);
  }
}
