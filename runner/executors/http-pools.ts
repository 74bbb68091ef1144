import { createHash } from "node:crypto";
import { Agent, type Dispatcher, interceptors } from "undici";

/** The TLS settings of one http job's requests (from its tls* keys). */
export interface TlsOptions {
  rejectUnauthorized: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** How many distinct TLS settings keep a pool; past it the least recently used one is closed. */
const MAX_POOLS = 32;

/**
 * Keep-alive connection pools of the http executor, one undici Agent per distinct TLS setting (undici
 * keeps a pool per origin inside each), so a connection is reused only by jobs whose requests would
 * have made the same connection. Closing drops them all; the next request opens a new one, so an
 * executor outlives a runner that stopped and started again.
 */
export class ConnectionPools {
  private readonly pools = new Map<string, { agent: Agent; dispatcher: Dispatcher }>();

  constructor(private readonly maxRedirections: number) {}

  /** The pooled dispatcher (following redirects) for requests made with `tls`. */
  for(tls: TlsOptions): Dispatcher {
    const key = tlsKey(tls);
    const hit = this.pools.get(key);
    if (hit) {
      // Map order is the recency order: move it to the end.
      this.pools.delete(key);
      this.pools.set(key, hit);
      return hit.dispatcher;
    }
    const agent = new Agent({ connect: tls });
    const pool = {
      agent,
      dispatcher: agent.compose(interceptors.redirect({ maxRedirections: this.maxRedirections })),
    };
    this.pools.set(key, pool);
    if (this.pools.size > MAX_POOLS) {
      const [oldest, old] = this.pools.entries().next().value!;
      this.pools.delete(oldest);
      // Requests still running on it finish first (close, not destroy).
      void old.agent.close().catch(() => {});
    }
    return pool.dispatcher;
  }

  /** Closes every pool once its requests have ended (a runner stopping). */
  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.agent.close().catch(() => {})));
  }

  /** How many pools are open (for tests). */
  get size(): number {
    return this.pools.size;
  }
}

/** Identifies a TLS setting: the verify flag and the contents (not the paths) of the PEM files. */
function tlsKey(tls: TlsOptions): string {
  if (!tls.ca && !tls.cert && !tls.key) return tls.rejectUnauthorized ? "verify" : "no-verify";
  const h = createHash("sha256");
  for (const part of [tls.ca, tls.cert, tls.key]) {
    h.update(part ? String(part.length) : "-");
    h.update(":");
    if (part) h.update(part);
  }
  return `${tls.rejectUnauthorized ? "verify" : "no-verify"}:${h.digest("hex")}`;
}
