import { nodeUrl } from "../../shared";
import type { StateDb } from "../store";
import { peers } from "../store";

/** Where each control node's HTTP API is: replicated rows plus what this node discovered itself. */
export class PeerBook {
  private readonly discovered = new Map<string, string>();

  /** `https` when the cluster runs with TLS. */
  constructor(
    private readonly state: StateDb,
    readonly scheme: "http" | "https" = "http",
  ) {}

  /** Base URL of a node's HTTP API, or "" when unknown. */
  url(id: string): string {
    const addr = this.get(id);
    return addr ? nodeUrl(addr, this.scheme) : "";
  }

  /** Remembers an address learned outside the log (discovery, join). */
  learn(id: string, addr: string): void {
    this.discovered.set(id, addr);
  }

  /** Every known address: replicated rows win over local discovery. */
  all(): Map<string, string> {
    const out = new Map(this.discovered);
    for (const r of this.state.db.select().from(peers).all()) out.set(r.id, r.addr);
    return out;
  }

  /**
   * Base URLs of every control node's API, `self` first (what runners are told: any of them
   * redirects a runner to the leader).
   */
  urls(self: { id: string; addr: string }): string[] {
    const out = self.addr ? [nodeUrl(self.addr, this.scheme)] : [];
    for (const [id, addr] of this.all()) if (id !== self.id && addr) out.push(nodeUrl(addr, this.scheme));
    return [...new Set(out)];
  }

  /** Address of one node, or undefined. */
  get(id: string): string | undefined {
    return this.all().get(id);
  }

  /** Addresses learned locally that the replicated table does not have yet. */
  unreplicated(): [string, string][] {
    const rows = new Map(
      this.state.db
        .select()
        .from(peers)
        .all()
        .map((r) => [r.id, r.addr]),
    );
    return [...this.discovered].filter(([id, addr]) => rows.get(id) !== addr);
  }
}
