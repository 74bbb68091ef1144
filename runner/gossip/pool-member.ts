import type { Clock, Logger } from "../../shared";
import { splitHostPort } from "../../shared";
import type { GossipConfigInput } from "./config";
import { cryptoSeededRandom, Gossip } from "./gossip";
import { Keyring } from "./keyring";
import type { MemberView } from "./membership";
import type { MemberMeta } from "./messages";
import { bindUdp } from "./udp-transport";

/** How a process (a control node or a runner) takes part in the gossip pool. */
export interface PoolMemberOptions {
  name: string;
  /** "host:port" to bind; host "0.0.0.0" advertises `advertiseHost` instead. */
  bind: string;
  /** Whether `bind` was given by the operator: a default port that is taken falls back to a free one. */
  bindExplicit: boolean;
  /** "host:port" of any members (`--gossip-join`). */
  join: string[];
  /** Base64 keys, primary first (`--encrypt KEY`); none = plain text. */
  keys: string[];
  config?: GossipConfigInput;
  clock: Clock;
  logger: Logger;
}

/**
 * A Gossip on a real UDP socket with the lifecycle a process needs: bind (falling back to a free
 * port when the default one is taken, so several nodes on one host still start), start, leave on a
 * graceful stop. Control nodes (control/main.ts) and runners build one.
 */
export class PoolMember {
  private gossip: Gossip | undefined;
  /** The keyring datagrams are sealed with (undefined when the pool is plain text). */
  readonly keyring: Keyring | undefined;

  constructor(private readonly opts: PoolMemberOptions) {
    this.keyring = opts.keys.length > 0 ? new Keyring(opts.keys) : undefined;
  }

  /**
   * Binds the socket and starts probing and joining, as `meta` says; `advertiseHost` is the host
   * others reach this member at when it binds a wildcard address.
   */
  async start(meta: MemberMeta, advertiseHost?: string): Promise<void> {
    const o = this.opts;
    const [host, port] = splitHostPort(o.bind);
    const transport = await bindUdp(host, port).catch(async (e: unknown) => {
      if (o.bindExplicit || (e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
      o.logger.warn("default gossip port is taken; binding a free one", { bind: o.bind });
      return bindUdp(host, 0);
    });
    const wildcard = host === "0.0.0.0" || host === "::" || host === "";
    const advertise = {
      addr: wildcard ? (advertiseHost ?? "127.0.0.1") : transport.local.host,
      port: transport.local.port,
    };
    this.gossip = Gossip.create(
      { name: o.name, advertise, meta, join: o.join, ...(o.config ? { config: o.config } : {}) },
      {
        clock: o.clock,
        random: cryptoSeededRandom(),
        transport,
        ...(this.keyring ? { keyring: this.keyring } : {}),
        logger: o.logger,
      },
    );
    this.gossip.start();
  }

  /** "host:port" others reach this member's gossip at ("" before start). */
  get address(): string {
    const self = this.gossip?.members().find((m) => m.name === this.opts.name);
    return self ? `${self.addr}:${self.port}` : "";
  }

  /** The running shell (undefined before start). */
  get shell(): Gossip | undefined {
    return this.gossip;
  }

  /** Every known member, this one included (empty before start). */
  members(): MemberView[] {
    return this.gossip?.members() ?? [];
  }

  /** Changes this member's tags; the pool hears it as an update. */
  setMeta(meta: MemberMeta): void {
    this.gossip?.setMeta(meta);
  }

  /** Leaves gracefully (the pool lists this member `left`, not failed), then closes the socket. */
  async leave(): Promise<void> {
    await this.gossip?.leave();
  }

  /** Closes the socket without a leave (a crash, to the pool). */
  async stop(): Promise<void> {
    await this.gossip?.stop();
  }
}
